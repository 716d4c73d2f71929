"""Publishing: check → render → claim → send (with retries) → record, exactly once (SPEC §5).

The claim is committed to the ledger before any network call, under a per-publication lock held
by this process for as long as the publication is `sending` (a file lock beside the SQLite ledger,
a session lock of this run's own connection on PostgreSQL: `Ledger.publication_lock`). The lock tells a live run (its
publication is `in-progress`) from a dead one (its publication is `unknown`).
"""

from __future__ import annotations

import os
import random
import secrets as _secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from comunicast.errors import ComunicastError, ConfigError
from comunicast.i18n import _, format_datetime
from comunicast.revision import canonical_payload, idempotency_key, revision_of
from comunicast.stopping import StopFlag

if TYPE_CHECKING:
    from comunicast.approvals import ApprovalGate, ApprovalRecord, UrgentBypass
    from comunicast.config import Config
    from comunicast.drafts import Draft
    from comunicast.ledger import Ledger, Publication
    from comunicast.ledger_archive import ArchiveEntry
    from comunicast.rules import Finding
    from comunicast.senders.base import Message, Sender
    from comunicast.senders.registry import SenderInstance

OutcomeState = Literal[
    "sent", "skipped", "refused", "failed", "unknown", "in-progress", "dry-run", "not-attempted",
    "edited", "withdrawn",  # SPEC §10: only for the action just taken (comunicast.corrections)
]
#: Exit code of each outcome (SPEC §3.1); a run exits with the highest.
EXIT_CODES: dict[str, int] = {
    "sent": 0, "skipped": 0, "in-progress": 0, "dry-run": 0,
    "refused": 1, "failed": 4, "unknown": 5,
    # Stopped (SIGTERM/SIGHUP) before it was claimed: nothing happened to it, the next run
    # sends it; the run exits with the code of what did happen.
    "not-attempted": 0,
    "edited": 0, "withdrawn": 0,
}
#: Adapters that reach no audience: no confirmation is asked before "sending" to them.
LOCAL_ADAPTERS = frozenset({"console", "outbox"})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0


@dataclass
class Outcome:
    """What happened to one publication (draft, sender) in this run."""

    draft_id: str
    sender: str
    state: OutcomeState
    revision: str | None = None
    remote_id: str | None = None
    attempts: int = 0
    error: str | None = None
    #: Exit code when it differs from the state's (a configuration problem is 3).
    code: int | None = None
    target: str | None = None
    text: str | None = None
    image: str | None = None

    @property
    def exit_code(self) -> int:
        """This outcome's exit code (SPEC §3.1)."""
        return self.code if self.code is not None else EXIT_CODES[self.state]

    def to_json(self) -> dict[str, Any]:
        """SPEC §3.3 `publish --format json` entry."""
        return {
            "draft_id": self.draft_id,
            "sender": self.sender,
            "state": self.state,
            "remote_id": self.remote_id,
            "attempts": self.attempts,
            "error": self.error,
            "revision": self.revision,
        }


@dataclass
class Planned:
    """One publication ready to go: the draft, its sender instance and the rendered message."""

    draft: Draft
    sender: SenderInstance
    message: Message
    #: The approvals (or urgent bypass) it goes out under, recorded with the claim (SPEC §8).
    approval: ApprovalRecord | None = None

    @property
    def is_local(self) -> bool:
        """True for senders that reach no audience (console, outbox)."""
        return self.sender.adapter_name in LOCAL_ADAPTERS


@dataclass
class Plan:
    """Publications to attempt, and those already decided while planning (refused drafts)."""

    items: list[Planned] = field(default_factory=list)
    decided: list[Outcome] = field(default_factory=list)
    #: Holds the private copies of images the items send; `close()` removes them.
    approvals: ApprovalGate | None = None

    def close(self) -> None:
        """Remove the temporary files of the plan (after the run)."""
        if self.approvals is not None:
            self.approvals.close()


# -- selecting and planning --------------------------------------------------------------------


def due_drafts(drafts: Iterable[Draft], now: datetime) -> list[Draft]:
    """Drafts whose `publish_at` has come and which have not expired; emergencies, then oldest."""
    from comunicast.drafts import Kind

    due = [
        d for d in drafts
        if d.publish_at is not None and d.publish_at <= now
        and (d.expires_at is None or d.expires_at > now)
    ]
    return sorted(
        due, key=lambda d: (d.kind is not Kind.EMERGENZA, d.publish_at, d.id)
    )


def offline_findings(draft: Draft, config: Config, now: datetime) -> list[Finding]:
    """The offline rules' error findings for `draft` (warnings and infos never stop a send)."""
    from comunicast.rules import check_draft

    return list(check_draft(draft, config, now=now, errors_only=True))


def blocking_findings(findings: list[Finding]) -> list[Finding]:
    """The findings that stop a draft from being published (severity error)."""
    from comunicast.rules import has_errors

    return [f for f in findings if has_errors([f])]


def render_text(draft: Draft, config: Config, target: str) -> str:
    """The exact text a sender of `target` sends (the same text `preview` shows)."""
    from comunicast.compose import rendered_text

    return rendered_text(draft, config, target)  # type: ignore[arg-type]


def draft_links(draft: Draft) -> list[str]:
    """The URLs of the draft's links, in order."""
    from comunicast.render import analyze

    return [link.url for link in analyze(draft.body).links]


def plan(
    config: Config,
    drafts: list[Draft],
    *,
    now: datetime,
    to: list[str] | None = None,
    done: Callable[[str, str], bool] | None = None,
    urgent: UrgentBypass | None = None,
) -> Plan:
    """Check and render every (draft, sender); drafts with errors are refused, nothing sent.

    `done(draft_id, sender)` (for `--due`) tells publications that need nothing more: they are
    skipped before any check, so a stricter rule or a removed image never refuses, at every
    cron run, a draft that was published long ago.
    """
    from comunicast.compose import senders_of
    from comunicast.senders.base import Message
    from comunicast.senders.registry import sender_instance

    result = Plan()
    if urgent is not None or config.approval.required is not False:
        from comunicast.approvals import ApprovalGate  # 30-40 ms: only where approval applies

        result.approvals = ApprovalGate(config, urgent=urgent)
        # Signatures of every draft that will be looked at, checked at once, in parallel.
        result.approvals.prepare([
            d for d in drafts
            if done is None or not all(done(d.id, n) for n in (to or senders_of(d, config)))
        ])
    instances: dict[str, SenderInstance | ConfigError] = {}

    def instance(name: str) -> SenderInstance | ConfigError:
        if name not in instances:
            try:
                instances[name] = sender_instance(config, name)
            except ConfigError as exc:
                instances[name] = exc
        return instances[name]

    if to:  # an explicit --to naming a bad sender is the user's mistake: stop before anything
        for name in to:
            if name not in config.senders:
                raise ConfigError(
                    _("--to: unknown sender '{name}' (configured: {known})").format(
                        name=name, known=", ".join(config.senders) or "-"),
                    hint=_("senders are named under senders: in comunicast.yaml"),
                )
            found = instance(name)
            if isinstance(found, ConfigError):
                raise found

    seen: dict[str, Draft] = {}
    for draft in drafts:
        names = list(dict.fromkeys(to or senders_of(draft, config)))
        if draft.id in seen and seen[draft.id].path.resolve() != draft.path.resolve():
            other = seen[draft.id]
            for name in names:
                result.decided.append(Outcome(
                    draft.id, name, "refused",
                    error=_("{path}: another draft ({other}) has the same id '{id}'; give one "
                            "of them its own `id:`").format(
                        path=draft.relpath, other=other.relpath, id=draft.id),
                ))
            continue
        if draft.id in seen:
            continue  # the same file named twice
        seen[draft.id] = draft
        if done is not None:
            finished = [n for n in names if done(draft.id, n)]
            result.decided.extend(Outcome(draft.id, n, "skipped") for n in finished)
            names = [n for n in names if n not in finished]
            if not names:
                continue

        approval: ApprovalRecord | None = None
        if result.approvals is not None:
            # From here on, the draft is the one whose content was judged: its image is a copy.
            gated = result.approvals.check(draft)
            if gated.refusal is not None:
                result.decided.extend(
                    Outcome(draft.id, n, "refused", error=gated.refusal) for n in names)
                continue
            draft, approval = gated.draft, gated.record

        findings = offline_findings(draft, config, now)
        errors = blocking_findings(findings)
        if errors:
            first = errors[0]
            where = f"{draft.relpath}:{first.line}" if first.line else draft.relpath
            reason = _("{n} error(s) found by check, e.g. {where}: {msg} ({rule})").format(
                n=len(errors), where=where, msg=first.message, rule=first.rule
            )
            result.decided.extend(Outcome(draft.id, n, "refused", error=reason) for n in names)
            continue
        if draft.image is not None and not draft.image.is_file():
            reason = _("{path}: image {image} does not exist").format(
                path=draft.relpath, image=draft.image)
            result.decided.extend(Outcome(draft.id, n, "refused", error=reason) for n in names)
            continue

        links: list[str] | None = None
        for name in names:
            inst = instance(name)
            if isinstance(inst, ConfigError):
                result.decided.append(
                    Outcome(draft.id, name, "refused", error=_one_line(str(inst)),
                            code=inst.exit_code)
                )
                continue
            limits = inst.limits
            text = render_text(draft, config, limits.target)
            plain = text if limits.target == "plain" else render_text(draft, config, "plain")
            if links is None:
                links = draft_links(draft)
            image = draft.image if limits.images else None
            payload = canonical_payload(
                target=limits.target, text=text, image=image, image_alt=draft.image_alt
            )
            revision = revision_of(payload)
            message = Message(
                draft_id=draft.id,
                sender=name,
                revision=revision,
                kind=str(draft.kind),
                title=draft.title,
                text=text,
                markdown=draft.body,
                plain=plain,
                target=limits.target,
                links=list(links),
                image=image,
                image_alt=draft.image_alt if image is not None else None,
                publish_at=draft.publish_at,
                idempotency_key=idempotency_key(draft.id, name, revision),
            )
            result.items.append(Planned(draft, inst, message, approval))
    return result


def sent_and_settled(ledger: Ledger) -> Callable[[str, str], bool]:
    """For `plan(done=…)` under `--due`: some revision was sent, and none is in doubt.

    Cron never republishes an edited draft, so such a publication is not due any more; one with
    an unknown outcome stays due, so every run keeps reporting it until someone resolves it.
    """

    # One query for the whole plan, not one per publication (a round trip each on PostgreSQL).
    states: dict[tuple[str, str], set[str]] = {}
    for pub in ledger.publications():
        states.setdefault((pub.draft_id, pub.sender), set()).add(pub.state)

    def done(draft_id: str, sender: str) -> bool:
        seen = states.get((draft_id, sender), set())
        return "sent" in seen and not seen & {"sending", "unknown"}

    return done


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


# -- running -----------------------------------------------------------------------------------


class Publisher:
    """Runs a plan: claim under lock, send with retries within the run's budget, record."""

    def __init__(
        self,
        config: Config,
        ledger: Ledger | None,
        *,
        republish: bool = False,
        dry_run: bool = False,
        due: bool = False,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        stop: StopFlag | None = None,
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.republish = republish
        self.dry_run = dry_run
        self.due = due
        self.sleep = sleep
        #: Asked before each publication and during each wait (SIGTERM/SIGHUP, see stopping).
        self.stop = stop or StopFlag()
        self.clock = clock
        self.rng = rng or random.Random()
        self.locks_dir = config.state_dir / "locks"
        self.run_token = _secrets.token_hex(8)
        self.deadline = clock() + config.publish.retry_budget
        self._senders: dict[str, Sender] = {}
        self._last_send: dict[str, float] = {}

    # -- planning views --------------------------------------------------------------------

    def preview(self, item: Planned) -> Outcome:
        """What running `item` would do now, without writing anything."""
        msg = item.message
        outcome = Outcome(
            msg.draft_id, msg.sender, "dry-run", revision=msg.revision, target=msg.target,
            text=msg.text, image=msg.image.name if msg.image else None,
        )
        if self.ledger is None:
            return outcome
        guard = self._withdrawn_guard(msg)
        if isinstance(guard, str):
            return replace(outcome, state="refused", error=guard, text=None)
        if guard is not None:  # --republish of a withdrawn revision: it would be sent
            return outcome
        claim = self.ledger.peek(msg.draft_id, msg.sender, msg.revision, republish=self.republish)
        if claim.decision == "claimed":
            return outcome
        if claim.decision == "unknown" and claim.blocking is not None \
                and claim.blocking.state == "sending" \
                and self.ledger.lock_is_held(msg.draft_id, msg.sender):
            return replace(outcome, state="in-progress",
                           error=_("another run is sending it right now"))
        return self._from_claim(outcome, claim.decision, claim.publication, claim.blocking)

    def pending(self, items: list[Planned]) -> list[Planned]:
        """The items this run would actually send (not skipped, refused or blocked)."""
        return [i for i in items if self.preview(i).state == "dry-run"]

    # -- running ---------------------------------------------------------------------------

    def run(
        self, items: list[Planned], on_outcome: Callable[[Outcome], None] | None = None
    ) -> list[Outcome]:
        """Publish every item, in order; each outcome is reported as soon as it is known."""
        outcomes = []
        try:
            for item in items:
                if self.stop.requested and not self.dry_run:
                    outcome = self.not_attempted(item)
                else:
                    outcome = self.preview(item) if self.dry_run else self.publish_one(item)
                outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
        finally:
            self.close()
        return outcomes

    def not_attempted(self, item: Planned) -> Outcome:
        """The outcome of a publication this run did not start, because it was asked to stop."""
        msg = item.message
        return Outcome(msg.draft_id, msg.sender, "not-attempted", revision=msg.revision,
                       target=msg.target,
                       error=_("not attempted: the run was stopped by {signal}").format(
                           signal=self.stop.name))

    def pause(self, seconds: float) -> bool:
        """Wait `seconds`; False when a stop was asked for (the wait then ends at once)."""
        if self.sleep is None:
            return self.stop.wait(seconds)
        if self.stop.requested:
            return False
        self.sleep(seconds)
        return not self.stop.requested

    def close(self) -> None:
        """Close the senders built by this run."""
        for sender in self._senders.values():
            try:
                sender.close()
            except Exception:  # noqa: BLE001, S110 - closing must not hide the outcomes
                pass
        self._senders.clear()

    def publish_one(self, item: Planned) -> Outcome:
        """Claim, send and record one publication."""
        assert self.ledger is not None
        msg = item.message
        base = Outcome(msg.draft_id, msg.sender, "dry-run", revision=msg.revision,
                       target=msg.target)
        try:
            self._sender(item)  # built before the claim: a bad option leaves no row behind
        except ComunicastError as exc:
            error = self._scrub(item, _one_line(str(exc)))
            return replace(base, state="refused", error=error, code=exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - a bug in an adapter; nothing was sent
            error = self._scrub(item, _one_line(
                _("sender '{name}' cannot be set up: {kind}: {msg}").format(
                    name=msg.sender, kind=type(exc).__name__, msg=exc)))
            return replace(base, state="refused", error=error, code=ConfigError.exit_code)
        lock = self.ledger.publication_lock(msg.draft_id, msg.sender)
        try:
            locked = lock.acquire()
        except ComunicastError as exc:  # e.g. the state folder is not writable: nothing sent
            return replace(base, state="refused", error=_one_line(str(exc)), code=exc.exit_code)
        if not locked:
            return replace(base, state="in-progress",
                           error=_("another run is sending it right now"))
        try:
            # The pause between two sends comes before the claim: a stop (or a crash) while
            # waiting leaves no `sending` row behind. Only for what will really be sent.
            if self._interval_left(item) > 0 and self.ledger.peek(
                    msg.draft_id, msg.sender, msg.revision,
                    republish=self.republish).decision == "claimed":
                self._wait_interval(item)
            if self.stop.requested:
                return self.not_attempted(item)
            guard = self._withdrawn_guard(msg)
            if isinstance(guard, str):  # SPEC §10: withdrawn, and no --republish
                return replace(base, state="refused", error=guard)
            if guard is not None:  # --republish of the withdrawn revision: a new message
                pub = self.ledger.reclaim_withdrawn(guard.id, run_token=self.run_token,
                                                    pid=os.getpid())
                if item.approval is not None:
                    self._record_approval(pub, item.approval)
                return self._send(item, pub)
            claim = self.ledger.claim(
                msg.draft_id, msg.sender, msg.revision,
                republish=self.republish, run_token=self.run_token, pid=os.getpid(),
                first_attempt=True, archive=archive_entry(item),
            )
            if claim.decision != "claimed":
                return self._from_claim(base, claim.decision, claim.publication, claim.blocking)
            assert claim.publication is not None
            if item.approval is not None:
                self._record_approval(claim.publication, item.approval)
            self._remember_payload(claim.publication, msg)
            return self._send(item, claim.publication)
        finally:
            lock.release()

    def _withdrawn_guard(self, msg: Message) -> str | Publication | None:
        from comunicast.corrections import withdrawn_guard

        assert self.ledger is not None
        return withdrawn_guard(self.ledger, msg, republish=self.republish, tz=self.config.tz)

    def _remember_payload(self, pub: Publication, msg: Message) -> None:
        """Record the claimed text and image hash, so a later `--edit` can compare (SPEC §10)."""
        from comunicast.corrections import remember_payload

        assert self.ledger is not None
        remember_payload(self.ledger, pub, msg)

    def _from_claim(
        self, base: Outcome, decision: str, current: Publication | None,
        blocking: Publication | None,
    ) -> Outcome:
        if decision == "skipped":
            assert current is not None
            return replace(base, state="skipped", remote_id=current.remote_id,
                           attempts=current.attempts, text=None)
        if decision == "refused":
            assert blocking is not None
            edited = self._edited_to(base)
            if edited is not None:  # an edit in place already shows this revision (SPEC §10)
                return replace(base, state="skipped", remote_id=edited.remote_id,
                               attempts=edited.attempts, text=None,
                               error=None if self.due else _("already edited in place to this "
                                                             "text"))
            message = _("a different revision was already sent on {when}; edits are not "
                        "sent again unless you pass --republish").format(
                when=format_datetime(blocking.sent_at.astimezone(self.config.tz))
                if blocking.sent_at else "?")
            if self.due:  # cron never republishes edits by itself, and stays quiet about them
                return replace(base, state="skipped", error=message, text=None)
            return replace(base, state="refused", error=message, text=None)
        assert blocking is not None
        return replace(
            base, state="unknown", remote_id=blocking.remote_id, attempts=blocking.attempts,
            text=None,
            error=_("the outcome of an earlier attempt (revision {rev}) is unknown: check the "
                    "channel, then run `comunicast resolve {draft} --sender {sender} --as "
                    "sent|failed`").format(
                rev=blocking.revision[:15], draft=base.draft_id, sender=base.sender),
        )

    def _edited_to(self, base: Outcome) -> Publication | None:
        from comunicast.corrections import edited_to

        if self.ledger is None or base.revision is None:
            return None
        return edited_to(self.ledger, base.draft_id, base.sender, base.revision)

    def _record_approval(self, pub: Publication, record: ApprovalRecord) -> None:
        """Before the send: the approvals (or the urgent bypass) this publication goes out under."""
        assert self.ledger is not None
        self.ledger.record_approvals(
            pub.id, record.content_revision,
            [(a.approver, a.path.name, a.signed, a.approved_at) for a in record.approvals],
            (record.urgent.reason, record.urgent.user) if record.urgent else None,
        )

    def _sender(self, item: Planned) -> Sender:
        name = item.sender.name
        if name not in self._senders:
            self._senders[name] = item.sender.build(self.config)
        return self._senders[name]

    def _scrub(self, item: Planned, text: str) -> str:
        from comunicast.senders.registry import mask_secrets

        return mask_secrets(text, item.sender.secrets)

    def _send(self, item: Planned, pub: Publication) -> Outcome:
        """Send with retries; the publication is claimed (`sending`) and locked by this run."""
        from comunicast.senders.base import MaybeDelivered, NotDelivered

        assert self.ledger is not None
        ledger = self.ledger
        msg = item.message
        base = Outcome(msg.draft_id, msg.sender, "failed", revision=msg.revision,
                       target=msg.target)
        limits = item.sender.limits
        max_attempts = self.config.publish.max_attempts
        sender = self._sender(item)

        tries = 0
        # What to record if the run is interrupted while waiting: nothing has left yet on the
        # first try; before a retry, the previous attempt's outcome stands.
        previous: tuple[Literal["failed", "unknown"], str] = (
            "failed", _("interrupted before sending"))
        attempts = pub.attempts
        while True:
            # The first attempt kept the pace before the claim (publish_one): once claimed, it
            # is in flight. A retry keeps it here, and a stop (SIGTERM/SIGHUP) cancels it.
            try:
                waited = self._wait_interval(item) if tries else True
            except BaseException:
                ledger.record(pub.id, previous[0], error=previous[1])
                raise
            if not waited:
                ledger.record(pub.id, previous[0], error=previous[1])
                return replace(base, state=previous[0], error=self._stopped(previous[1]),
                               attempts=attempts)
            # The claim counted the first attempt; each retry is counted before it is made.
            attempts = pub.attempts if tries == 0 else ledger.begin_attempt(pub.id)
            tries += 1
            state: Literal["failed", "unknown"]
            code: int | None = None
            delay: float | None = None
            try:
                receipt = sender.send(msg)
            except NotDelivered as exc:
                state, error = "failed", self._scrub(item, exc.message)
                delay = self._retry_delay(tries, max_attempts, exc.retryable, exc.retry_after)
            except MaybeDelivered as exc:
                state, error = "unknown", self._scrub(item, exc.message)
                # Only a platform that honours idempotency keys may see the same message again.
                delay = self._retry_delay(tries, max_attempts, limits.idempotency, None)
            except ComunicastError as exc:  # configuration found wrong at send time
                state, error = "failed", self._scrub(item, _one_line(str(exc)))
                code = exc.exit_code
            except Exception as exc:  # noqa: BLE001 - a bug in an adapter: it may have sent
                state = "unknown"
                error = self._scrub(item, _("sender '{name}' crashed: {kind}: {msg}").format(
                    name=msg.sender, kind=type(exc).__name__, msg=exc))
            except BaseException:
                # Interrupted (Ctrl-C) in the middle of a request: the outcome is unknown.
                ledger.record(pub.id, "unknown", error=_("interrupted while sending"))
                raise
            else:
                remote_id = self._scrub(item, receipt.remote_id) if receipt.remote_id else None
                ledger.record(pub.id, "sent", remote_id=remote_id, to_paste=receipt.to_paste)
                return replace(base, state="sent", remote_id=remote_id, attempts=attempts)
            finally:
                self._last_send[msg.sender] = self.clock()
            if delay is None:
                ledger.record(pub.id, state, error=error)
                return replace(base, state=state, error=error, attempts=attempts, code=code)
            ledger.note(pub.id, "retry", error)
            previous = (state, error)
            try:
                waited = self.pause(delay)
            except BaseException:
                ledger.record(pub.id, state, error=error)
                raise
            if not waited:  # stopped during the backoff: this attempt's outcome stands
                ledger.record(pub.id, state, error=error)
                return replace(base, state=state, error=self._stopped(error), attempts=attempts,
                               code=code)

    def _interval_left(self, item: Planned) -> float:
        """Seconds still to wait before this run may send to the item's sender again."""
        last = self._last_send.get(item.sender.name)
        if last is None:
            return 0.0
        return item.sender.min_interval - (self.clock() - last)

    def _wait_interval(self, item: Planned) -> bool:
        """Keep the sender's `min_interval`; False when stopped while (or before) waiting."""
        wait = self._interval_left(item)
        return self.pause(wait) if wait > 0 else not self.stop.requested

    def _stopped(self, error: str) -> str:
        return _("{error} (not retried: the run was stopped by {signal})").format(
            error=error, signal=self.stop.name)

    def _retry_delay(
        self, tries: int, max_attempts: int, retryable: bool, retry_after: float | None
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when it must not be retried."""
        if not retryable or tries >= max_attempts:
            return None
        if retry_after is not None and retry_after >= 0:
            # The platform said when; a little jitter keeps parallel runs from colliding.
            delay = retry_after + self.rng.uniform(0, min(1.0, 0.1 * retry_after + 0.05))
        else:
            delay = self.rng.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (tries - 1)))
        if self.clock() + delay > self.deadline:
            return None
        return delay


def archive_entry(item: Planned) -> ArchiveEntry:
    """What the archive keeps of a publication about to be claimed (SPEC §9)."""
    from comunicast.ledger_archive import ArchiveEntry, iso_or_none
    from comunicast.senders.media import sniff

    msg, draft = item.message, item.draft
    data = image_type = None
    if msg.image is not None:
        try:
            data = msg.image.read_bytes()
        except OSError:  # the sender reports it; the archive keeps the rest
            data = None
        found = sniff(data) if data is not None else None
        image_type = found[0] if found else None
        if found is None:
            data = None
    return ArchiveEntry(
        origin="publish", target=msg.target, title=msg.title, kind=msg.kind, text=msg.text,
        plain=msg.plain, links=list(msg.links), publish_at=iso_or_none(draft.publish_at),
        deadline=iso_or_none(draft.deadline), starts_at=iso_or_none(draft.starts_at),
        ends_at=iso_or_none(draft.ends_at), expires_at=iso_or_none(draft.expires_at),
        where=draft.where, image=data, image_type=image_type,
        image_alt=msg.image_alt if data is not None else None,
    )


def exit_code(outcomes: Iterable[Outcome], *, extra: Iterable[int] = ()) -> int:
    """The run's exit code: the highest of its outcomes' (SPEC §3.1)."""
    return max([0, *(o.exit_code for o in outcomes), *extra])


