"""The WeCom sandbox: a local stand-in for the WeCom server API and its callbacks, and
for the WeChat mini-program APIs (login, phone number).

Trials, demos and tests run against it; a real corp differs only by the API base URL.
It holds a corp in memory (staff, customers, follow relations, tags, groups) and the
mini-program's WeChat users, answers /cgi-bin/ like WeCom (and /sns/, /wxa/ like
WeChat), and offers a JSON console under /sandbox/ that plays users (whose
actions fire correctly encrypted and signed callbacks) and tests (faults, latency, the
clock, logs).
"""

from bot.sandbox.app import create_sandbox_app, run_sandbox, start_sandbox

__all__ = ["create_sandbox_app", "run_sandbox", "start_sandbox"]
