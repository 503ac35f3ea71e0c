"""The WeCom edge: callback endpoint, crypto, event parsing, async API client, job queue
and worker, and the WeCom sandbox."""
