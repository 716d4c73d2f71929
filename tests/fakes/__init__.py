"""Loopback stand-ins for the platforms comunicast sends to: WAHA, the Telegram Bot API, a webhook.

Each fake is a real threaded HTTP/1.1 server on 127.0.0.1 (a free port by default) that validates
every request as the platform would, answers in the platform's format, counts what it publishes,
and can be scripted to misbehave. Use them from any test, in-process or against a `comunicast`
subprocess (the server runs in the test's process; the client may be killed at any time).

    from fakes import FakeWaha, FakeTelegram, FakeWebhook, Reply, closed_port

    with FakeWaha(api_key="k", chat_id="120363000000000000@newsletter") as waha:
        waha.url                          # "http://127.0.0.1:54321" → waha base_url
        waha.script(Reply.rate_limited(1), Reply.ok())   # next two requests, then `default`
        ... run comunicast ...
        assert waha.problems == []        # every request was valid (schema, key, session, image)
        assert waha.delivered == 1        # messages published
        assert waha.duplicates() == {}    # no key published twice (key: text; webhook: Idempotency-Key)

Constructors (all take `delay=` seconds added to every answer — a slow server — and `port=`):

- `FakeWaha(api_key="waha-test-key", session="default", chat_id=None, id_style="string")`:
  `POST /api/sendText|sendImage`; X-Api-Key checked (401), body validated with jsonschema
  against tests/fixtures/waha_openapi_requests.json (WAHA 2024.9.2) plus: no unknown fields,
  the session, a `…@newsletter` chat id, base64 JPEG/PNG matching `file.mimetype`; bad → 422.
  Answers 201 with a WAMessage (`id_style="serialized"`: WEBJS's `{"_serialized": …}` id).
- `FakeTelegram(token="123456789:AA…", chat_id=None)`: `POST /bot<token>/sendMessage|sendPhoto`
  (JSON, urlencoded or multipart); wrong token → 401; `parse_mode=HTML` required and the HTML
  parsed as Telegram does (allowed tags, balanced, `< > &` escaped) with lengths in UTF-16
  units (4096 text, 1024 caption); errors as `{"ok": false, "error_code", "description"}`;
  429 carries `parameters.retry_after` (no header). Success: `result.message_id` = 1, 2, …
- `FakeWebhook(secret="webhook-test-secret-0123456789", honour_idempotency=True,
  required_headers=None)`: any path; checks X-Comunicast-Signature (HMAC-SHA256 of the raw
  body), Idempotency-Key, the exact SPEC §5.1 body fields; a repeated key is answered again
  without publishing (`replays` counts them). Answers `{"id": "wh-<n>"}`.

Scripting (`fake.script(*replies)` queues answers for the next requests; `fake.default` is
used after them, `Reply.ok()` unless changed):

- `Reply.ok(delay=0)` — the platform's success.
- `Reply.error(status, description="", retry_after=None, deliver=False)` — an error in the
  platform's format (`Reply.error(503)`, `Reply.error(400, "Bad Request: chat not found")`).
- `Reply.rate_limited(seconds)` — 429 with `Retry-After` (Telegram: `parameters.retry_after`).
- `Reply.slow(seconds, deliver=True)` — publishes, then answers after `seconds`: a client
  with a shorter read timeout gives up although the message went out.
- `Reply.hang_up(deliver=True)` / `Reply.reset(deliver=True)` — publish, then close the
  connection without an answer / with a TCP reset.
- `Reply.raw(status, body)` — exactly these bytes (e.g. a success body that is not JSON).

What happened: `fake.requests` (`Recorded`: method, path, headers (lower-case keys), body,
json, form, files, problems, status, received_at), `fake.deliveries` (`Delivery`: key,
remote_id, request), `fake.delivered`, `fake.counts()`, `fake.duplicates()`, `fake.problems`,
`fake.wait_for_requests(n, timeout)`, `fake.clear()`. `closed_port()` returns a loopback port
nothing listens on (connection refused). `python tests/fakes waha|telegram|webhook` runs one
standalone and prints its URL (see `__main__.py`), e.g. for benchmarks.

Import as `fakes` from tests (tests/ is on sys.path under pytest); elsewhere put `tests/` on
sys.path first.
"""

from .server import Delivery, FakeServer, Recorded, Rejection, Reply, closed_port
from .telegram import FakeTelegram, parse_entities, utf16_length
from .waha import FakeWaha, openapi, request_schema, schema_errors
from .webhook import FakeWebhook

__all__ = [
    "Delivery",
    "FakeServer",
    "FakeTelegram",
    "FakeWaha",
    "FakeWebhook",
    "Recorded",
    "Rejection",
    "Reply",
    "closed_port",
    "openapi",
    "parse_entities",
    "request_schema",
    "schema_errors",
    "utf16_length",
]
