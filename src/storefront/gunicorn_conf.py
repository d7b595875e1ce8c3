"""gunicorn settings of `storefront serve` (`gunicorn -c python:storefront.gunicorn_conf`).

No control socket: gunicorn's default is one path (`~/.gunicorn/gunicorn.ctl`) for every
gunicorn of the user, which the shop never uses. A worker told to stop has
`graceful_timeout` seconds before it is killed: mail still queued then would be lost
without a word, so the worker sends what it can and logs the rest.
"""

from __future__ import annotations

from typing import Any

from storefront.mail import finish_queued_mail

control_socket_disable = True

#: Seconds kept back from the graceful timeout for the worker to end after its mail.
MARGIN_SECONDS = 5


def worker_exit(server: Any, worker: Any) -> None:
    """gunicorn's hook, in the worker, after its last request and before the process ends."""
    finish_queued_mail(timeout=max(server.cfg.graceful_timeout - MARGIN_SECONDS, 1))
