"""(b) What users write today: a Flask view doing wechatpy's documented WeCom callback
handling (decrypt, parse, empty 200), served by gunicorn's default sync worker:

    gunicorn -w 1 -b 127.0.0.1:PORT bench.flask_baseline:app
"""

from __future__ import annotations

from flask import Flask, abort, request

from bench.baselines import CALLBACK, decrypt_and_parse

app = Flask("wechatpy_flask_baseline")


@app.post(CALLBACK)
def callback() -> str:
    message = decrypt_and_parse(
        request.get_data(),
        request.args.get("msg_signature", ""),
        request.args.get("timestamp", ""),
        request.args.get("nonce", ""),
    )
    if message is None:
        abort(403)
    return ""


@app.get("/ping")
def ping() -> str:
    return "pong"
