"""The ceiling: a bare Flask app answering a constant JSON object.

`run.py` serves it with the same gunicorn settings as the shop and measures it in the same
run, so the shop's figures read as a fraction of what Flask itself can do on this machine.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def constant():
    """The cheapest JSON answer Flask can give."""
    return {"status": "ok"}
