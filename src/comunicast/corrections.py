"""Corrections and withdrawals: edit a published message in place, or delete it, exactly once.

SPEC §10. Each edit or withdrawal is an `actions` row of the publication it changes, claimed
and committed before the request under the same per-publication lock `publish` takes, and
recorded after the answer. Unlike a first send, both are idempotent on every platform (the same
text set twice, a message deleted twice, are harmless), so one in doubt (read timeout, reset) is
tried again within the run's retry budget, and a rerun after a crash takes it up again; only one
still in doubt when the budget is spent ends `unknown` (exit 5) for a person to `resolve`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Literal, cast

from comunicast.errors import ComunicastError, ConfigError
from comunicast.i18n import _
from comunicast.publish import Outcome, Planned, Publisher, _one_line
from comunicast.revision import file_sha256, idempotency_key

if TYPE_CHECKING:
    from comunicast.config import Config
    from comunicast.ledger import Ledger, Publication
    from comunicast.ledger_actions import Action
    from comunicast.senders.base import Correcting, Edit, Message, Receipt, Sender, Withdrawal
    from comunicast.senders.registry import SenderInstance
    from comunicast.stopping import StopFlag


# -- what the ledger says about a published message ----------------------------------------------


@dataclass(frozen=True)
class MessageState:
    """A sent publication as its followers see it now: current revision and text, edits,
    withdrawal. Only actions taken after it was (last) sent count: a publication sent again
    after a withdrawal (`--republish`) is a new message."""

    publication: Publication
    edits: list[Action]
    withdrawal: Action | None
    unsettled: list[Action]

    @property
    def revision(self) -> str:
        """The revision the message shows."""
        return self.edits[-1].revision if self.edits else self.publication.revision

    @property
    def withdrawn(self) -> bool:
        """True once a withdrawal of this message is done."""
        return self.withdrawal is not None


def message_state(ledger: Ledger, pub: Publication,
                  actions: list[Action] | None = None) -> MessageState:
    """The edits and withdrawal of one sent publication (`actions`: its rows, if read already)."""
    rows = ledger.actions(pub.id) if actions is None else actions
    since = pub.sent_at
    current = [a for a in rows if since is None or a.claimed_at >= since
               or (a.done_at is not None and a.done_at >= since)]
    edits = [a for a in current if a.action == "edit" and a.state == "done"]
    withdrawals = [a for a in current if a.action == "withdraw" and a.state == "done"]
    return MessageState(
        publication=pub,
        edits=edits,
        withdrawal=withdrawals[-1] if withdrawals else None,
        unsettled=[a for a in current if a.state in ("sending", "unknown")],
    )


def edited_to(ledger: Ledger, draft_id: str, sender: str, revision: str) -> Publication | None:
    """The live sent publication of (draft, sender) that an edit has brought to `revision`."""
    for pub in reversed(ledger.publications(draft_id=draft_id, sender=sender)):
        if pub.state != "sent":
            continue
        state = message_state(ledger, pub)
        if not state.withdrawn and state.edits and state.revision == revision:
            return pub
    return None


def withdrawn_publication(ledger: Ledger, draft_id: str, sender: str) -> Publication | None:
    """The latest sent publication of (draft, sender) when every sent one is withdrawn."""
    sent = [p for p in ledger.publications(draft_id=draft_id, sender=sender) if p.state == "sent"]
    if not sent:
        return None
    states = [message_state(ledger, p) for p in sent]
    if all(s.withdrawn for s in states):
        return sent[0]  # most recent first
    return None


def withdrawn_refusal(config_tz: tzinfo, pub: Publication, ledger: Ledger) -> str:
    """Why a withdrawn draft is not published again, and the way out."""
    state = message_state(ledger, pub)
    when = state.withdrawal.done_at if state.withdrawal and state.withdrawal.done_at else None
    return _("withdrawn on {when} ({reason}); it is not published again unless you pass "
             "--republish").format(
        when=_when(when, config_tz), reason=(state.withdrawal.reason if state.withdrawal
                                             else "") or "-")


def _when(value: datetime | None, tz: tzinfo) -> str:
    from comunicast.i18n import format_datetime

    if value is None:
        return "?"
    return format_datetime(value.astimezone(tz))


def remember_payload(ledger: Ledger, pub: Publication, message: Message) -> None:
    """Record what a claimed publication carries, so a later edit can compare its image."""
    try:
        image = file_sha256(message.image) if message.image is not None else None
    except OSError:  # gone since planning: the send reports it; an edit will be refused
        return
    ledger.remember_payload(pub.id, target=message.target, text=message.text,
                            image_sha256=image, image_alt=message.image_alt)


# -- running edits and withdrawals ---------------------------------------------------------------


@dataclass(frozen=True)
class WithdrawTarget:
    """One (draft, sender) to withdraw, with its configured sender (or why it cannot be used)."""

    draft_id: str
    sender: str
    instance: SenderInstance | ConfigError


ActionResult = Literal["done", "failed", "unknown"]


class Corrector(Publisher):
    """Runs `publish --edit` and `withdraw`: checks, claim under lock, request with retries,
    record. Shares the publisher's senders, retry policy, budget and secret masking."""

    def __init__(self, config: Config, ledger: Ledger | None, *, now: datetime,
                 dry_run: bool = False, stop: StopFlag | None = None) -> None:
        super().__init__(config, ledger, dry_run=dry_run, stop=stop)
        self.now = now

    # -- edit ------------------------------------------------------------------------------

    def edit_all(self, items: list[Planned],
                 on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        """Edit every item's published message in place (or say why not), in order."""
        outcomes: list[Outcome] = []
        try:
            for item in items:
                outcome = self.not_attempted(item) if self.stop.requested else self.edit_one(item)
                outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
        finally:
            self.close()
        return outcomes

    def edit_one(self, item: Planned) -> Outcome:
        """Edit one publication: refusals first, then claim, request, record."""
        msg = item.message
        base = Outcome(msg.draft_id, msg.sender, "dry-run", revision=msg.revision,
                       target=msg.target, text=msg.text,
                       image=msg.image.name if msg.image else None)
        refusal = self._cannot(item.sender, "edit")
        if refusal is not None:
            return replace(base, state="refused", error=refusal, text=None)
        if self.ledger is None:  # a dry run in a project that never published
            return replace(base, state="refused", text=None, error=self._not_sent(msg.sender))
        if self.dry_run:
            decided, _state = self._edit_decision(item)
            return decided or base
        sender_or_refusal = self._build(item.sender, base)
        if isinstance(sender_or_refusal, Outcome):
            return replace(sender_or_refusal, text=None)
        sender = sender_or_refusal
        lock = self.ledger.publication_lock(msg.draft_id, msg.sender)
        try:
            locked = lock.acquire()
        except ComunicastError as exc:
            return replace(base, state="refused", error=_one_line(str(exc)),
                           code=exc.exit_code, text=None)
        if not locked:
            return replace(base, state="in-progress", text=None,
                           error=_("another run is sending it right now"))
        try:
            decided, state = self._edit_decision(item)
            if decided is not None:
                return decided
            assert state is not None
            pub = state.publication
            assert pub.remote_id is not None
            claim = self.ledger.claim_action(
                pub.id, "edit", revision=msg.revision, remote_id=pub.remote_id, text=msg.text,
                plain=msg.plain, run_token=self.run_token, pid=os.getpid(),
            )
            if claim.decision == "blocked":
                assert claim.blocking is not None
                return self._blocked(base, claim.blocking)
            assert claim.action is not None
            from comunicast.senders.base import Edit

            edit = Edit(
                message=msg, remote_id=pub.remote_id, replaces_revision=state.revision,
                idempotency_key=idempotency_key(
                    msg.draft_id, msg.sender, f"edit\0{pub.remote_id}\0{msg.revision}"),
            )
            result, error, attempts, code = self._attempts(
                item.sender, claim.action, _edit(sender, edit))
        finally:
            lock.release()
        if result == "done":
            return replace(base, state="edited", remote_id=pub.remote_id, attempts=attempts,
                           text=None)
        return replace(base, state=result, remote_id=pub.remote_id, attempts=attempts,
                       error=error, code=code, text=None)

    def _edit_decision(self, item: Planned) -> tuple[Outcome | None, MessageState | None]:
        """An outcome decided without any request (skipped, refused, unknown), or the message
        to edit. Reads the ledger only; the caller holds the lock (or makes a dry run)."""
        assert self.ledger is not None
        msg = item.message
        base = Outcome(msg.draft_id, msg.sender, "refused", revision=msg.revision,
                       target=msg.target)
        pubs = self.ledger.publications(draft_id=msg.draft_id, sender=msg.sender)
        doubtful = [p for p in pubs if p.state in ("sending", "unknown")]
        if doubtful:
            live = doubtful[0].state == "sending" and self.dry_run \
                and self.ledger.lock_is_held(msg.draft_id, msg.sender)
            if live:
                return replace(base, state="in-progress",
                               error=_("another run is sending it right now")), None
            return self._from_claim(base, "unknown", None, doubtful[0]), None
        sent = [p for p in pubs if p.state == "sent"]
        if not sent:
            return replace(base, error=self._not_sent(msg.sender)), None
        states = [message_state(self.ledger, p) for p in sent]
        live_states = [s for s in states if not s.withdrawn]
        if not live_states:
            return replace(base, error=withdrawn_refusal(self.config.tz, sent[0],
                                                         self.ledger)), None
        state = live_states[0]  # the most recently sent message still in the channel
        pub = state.publication
        mine = [a for a in state.unsettled if a.action == "edit" and a.revision == msg.revision]
        others = [a for a in state.unsettled if a not in mine]
        if others:
            return self._blocked(base, others[-1]), None
        if not mine and state.revision == msg.revision:
            if pub.revision == msg.revision and not state.edits:
                note = _("this text was already sent; nothing to edit")
            else:
                note = _("the message already shows this text; nothing sent")
            return replace(base, state="skipped", remote_id=pub.remote_id,
                           attempts=pub.attempts, error=note), None
        if not pub.remote_id:
            return replace(base, error=_(
                "the platform's id of this message is not known (it was settled by hand), so "
                "it cannot be edited here: edit it by hand, or send it again with --republish"
            )), None
        window = item.sender.limits.edit_window
        if window is not None and pub.sent_at is not None \
                and (self.now - pub.sent_at).total_seconds() > window:
            return replace(base, error=_(
                "sent on {when}: {sender} allows edits for {days:g} days only; send the new "
                "text as a new message with --republish").format(
                when=_when(pub.sent_at, self.config.tz), sender=msg.sender,
                days=window / 86_400)), None
        payload = self.ledger.payload(pub.id)
        if payload is None:
            return replace(base, error=_(
                "the ledger has no record of the image this message was sent with (it was "
                "published before this version of comunicast), so it cannot be edited safely; "
                "send the new text with --republish")), None
        try:
            new_image = file_sha256(msg.image) if msg.image is not None else None
        except OSError:
            new_image = "unreadable"
        if payload.image_sha256 != new_image:
            return replace(base, error=_(
                "the image changed (or was added or removed): a published message's image "
                "cannot be replaced; send the new version as a new message with --republish"
            )), None
        if self.dry_run:
            return replace(base, state="dry-run", remote_id=pub.remote_id, text=msg.text,
                           image=msg.image.name if msg.image else None, error=None), state
        return None, state

    # -- withdraw --------------------------------------------------------------------------

    def withdraw_all(self, targets: list[WithdrawTarget], reason: str,
                     on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        """Withdraw the published messages of every (draft, sender), in order."""
        outcomes: list[Outcome] = []
        try:
            for target in targets:
                if self.stop.requested:  # SIGTERM/SIGHUP: nothing more is started
                    outcomes.append(replace(
                        Outcome(target.draft_id, target.sender, "not-attempted"),
                        error=_("not attempted: the run was stopped by {signal}").format(
                            signal=self.stop.name)))
                    continue
                for outcome in self.withdraw_one(target, reason):
                    outcomes.append(outcome)
                    if on_outcome is not None:
                        on_outcome(outcome)
        finally:
            self.close()
        return outcomes

    def withdraw_one(self, target: WithdrawTarget, reason: str) -> list[Outcome]:
        """Delete every message of (draft, sender) still in the channel; one outcome each."""
        assert self.ledger is not None
        base = Outcome(target.draft_id, target.sender, "refused")
        inst = target.instance
        if isinstance(inst, ConfigError):
            return [replace(base, error=_one_line(str(inst)), code=inst.exit_code)]
        refusal = self._cannot(inst, "withdraw")
        if refusal is not None:
            return [replace(base, error=refusal)]
        if self.dry_run:
            return self._withdraw_plan(base)[0]
        sender_or_refusal = self._build(inst, base)
        if isinstance(sender_or_refusal, Outcome):
            return [sender_or_refusal]
        sender = sender_or_refusal
        assert self.ledger is not None
        lock = self.ledger.publication_lock(target.draft_id, target.sender)
        try:
            locked = lock.acquire()
        except ComunicastError as exc:
            return [replace(base, error=_one_line(str(exc)), code=exc.exit_code)]
        if not locked:
            return [replace(base, state="in-progress",
                            error=_("another run is sending it right now"))]
        outcomes: list[Outcome] = []
        try:
            decided, states = self._withdraw_plan(base)
            outcomes += decided
            for state in states:
                pub = state.publication
                assert pub.remote_id is not None
                one = replace(base, revision=pub.revision, remote_id=pub.remote_id)
                claim = self.ledger.claim_action(
                    pub.id, "withdraw", revision=state.revision, remote_id=pub.remote_id,
                    reason=reason, run_token=self.run_token, pid=os.getpid(),
                )
                assert claim.action is not None  # withdrawals are never blocked
                from comunicast.senders.base import Withdrawal

                payload = self.ledger.payload(pub.id)
                text = state.edits[-1].text if state.edits else None
                withdrawal = Withdrawal(
                    draft_id=pub.draft_id, sender=pub.sender, revision=state.revision,
                    remote_id=pub.remote_id, reason=reason,
                    text=text if text is not None else (payload.text if payload else None),
                    has_image=bool(payload and payload.image_sha256),
                    idempotency_key=idempotency_key(
                        pub.draft_id, pub.sender, f"withdraw\0{pub.remote_id}"),
                )
                result, error, attempts, code = self._attempts(
                    inst, claim.action, _withdraw(sender, withdrawal))
                if result == "done":
                    outcomes.append(replace(one, state="withdrawn", attempts=attempts))
                else:
                    outcomes.append(replace(one, state=result, attempts=attempts, error=error,
                                            code=code))
        finally:
            lock.release()
        return outcomes

    def _withdraw_plan(self, base: Outcome) -> tuple[list[Outcome], list[MessageState]]:
        """Outcomes decided without a request, and the messages to delete."""
        assert self.ledger is not None
        pubs = self.ledger.publications(draft_id=base.draft_id, sender=base.sender)
        doubtful = [p for p in pubs if p.state in ("sending", "unknown")]
        decided: list[Outcome] = []
        if doubtful:
            # A first send in doubt may have posted a message nobody knows the id of.
            decided.append(self._from_claim(base, "unknown", None, doubtful[0]))
        states = [message_state(self.ledger, p) for p in pubs if p.state == "sent"]
        live = [s for s in states if not s.withdrawn]
        if not live and not doubtful:
            if states:
                gone = states[0]
                when = gone.withdrawal.done_at if gone.withdrawal else None
                decided.append(replace(
                    base, state="skipped", revision=gone.publication.revision,
                    remote_id=gone.publication.remote_id,
                    error=_("already withdrawn on {when}; nothing sent").format(
                        when=_when(when, self.config.tz))))
            else:
                decided.append(replace(base, state="skipped", error=self._not_sent(base.sender)))
        todo = []
        for state in live:
            if not state.publication.remote_id:
                decided.append(replace(
                    base, revision=state.publication.revision, error=_(
                        "the platform's id of this message is not known (it was settled by "
                        "hand): delete it by hand")))
            elif self.dry_run:
                decided.append(replace(base, state="dry-run", revision=state.publication.revision,
                                       remote_id=state.publication.remote_id))
            else:
                todo.append(state)
        return decided, todo

    # -- shared ----------------------------------------------------------------------------

    def _build(self, inst: SenderInstance, base: Outcome) -> Sender | Outcome:
        """The run's adapter object for `inst`, or the refusal when it cannot be set up."""
        if inst.name in self._senders:
            return self._senders[inst.name]
        try:
            sender = inst.build(self.config)
        except ComunicastError as exc:
            return replace(base, state="refused", error=mask(inst, _one_line(str(exc))),
                           code=exc.exit_code)
        except Exception as exc:  # noqa: BLE001 - a bug in an adapter; nothing was sent
            return replace(base, state="refused", code=ConfigError.exit_code, error=mask(
                inst, _one_line(_("sender '{name}' cannot be set up: {kind}: {msg}").format(
                    name=inst.name, kind=type(exc).__name__, msg=exc))))
        self._senders[inst.name] = sender
        return sender

    def _pause(self, inst: SenderInstance) -> bool:
        """Keep the sender's `min_interval` since this run's last request to it; False when a
        stop (SIGTERM/SIGHUP) was asked for."""
        last = self._last_send.get(inst.name)
        wait = inst.min_interval - (self.clock() - last) if last is not None else 0.0
        return self.pause(wait) if wait > 0 else not self.stop.requested

    def _cannot(self, inst: SenderInstance, what: Literal["edit", "withdraw"]) -> str | None:
        limits = inst.limits
        able = limits.can_edit if what == "edit" else limits.can_withdraw
        if able and hasattr(inst.adapter, what):
            return None
        if what == "edit":
            return _("sender '{name}' (adapter {adapter}) cannot edit a published message; send "
                     "the new text as a new message with --republish").format(
                name=inst.name, adapter=inst.adapter_name)
        return _("sender '{name}' (adapter {adapter}) cannot delete a published message: "
                 "delete it by hand").format(name=inst.name, adapter=inst.adapter_name)

    @staticmethod
    def _not_sent(sender: str) -> str:
        return _("not published on {sender} yet: publish it without --edit").format(sender=sender)

    def _blocked(self, base: Outcome, blocking: Action) -> Outcome:
        what = _("an edit") if blocking.action == "edit" else _("a withdrawal")
        return replace(
            base, state="unknown", attempts=blocking.attempts, text=None,
            error=_("the outcome of {what} made on {when} is unknown: check the channel, then "
                    "run `comunicast resolve {draft} --sender {sender} --as sent|failed`").format(
                what=what, when=_when(blocking.claimed_at, self.config.tz),
                draft=base.draft_id, sender=base.sender),
        )

    def _attempts(
        self, inst: SenderInstance, action: Action, attempt: Callable[[], Receipt],
    ) -> tuple[ActionResult, str | None, int, int | None]:
        """Make the claimed action's request, retrying within the run's budget; record it.

        Edits and withdrawals are idempotent: an answer in doubt is retried like a refusal
        that certainly did not happen. Returns (result, error, attempts, exit code override).
        """
        from comunicast.senders.base import MaybeDelivered, NotDelivered

        assert self.ledger is not None
        ledger = self.ledger
        max_attempts = self.config.publish.max_attempts
        tries = 0
        attempts = action.attempts
        previous: tuple[ActionResult, str] = ("failed", _("interrupted before sending"))
        while True:
            try:
                waited = self._pause(inst)
            except BaseException:
                ledger.record_action(action.id, previous[0], error=previous[1])
                raise
            if not waited:  # stopped before this attempt: the previous outcome stands
                ledger.record_action(action.id, previous[0], error=previous[1])
                return previous[0], self._stopped(previous[1]), attempts, None
            attempts = action.attempts if tries == 0 else ledger.begin_action_attempt(action.id)
            tries += 1
            result: ActionResult
            code: int | None = None
            delay: float | None = None
            try:
                attempt()
            except NotDelivered as exc:
                result, error = "failed", mask(inst, exc.message)
                delay = self._retry_delay(tries, max_attempts, exc.retryable, exc.retry_after)
            except MaybeDelivered as exc:
                result, error = "unknown", mask(inst, exc.message)
                delay = self._retry_delay(tries, max_attempts, True, None)
            except ComunicastError as exc:
                result, error = "failed", mask(inst, _one_line(str(exc)))
                code = exc.exit_code
            except Exception as exc:  # noqa: BLE001 - a bug in an adapter: it may have acted
                result = "unknown"
                error = mask(inst, _("sender '{name}' crashed: {kind}: {msg}").format(
                    name=inst.name, kind=type(exc).__name__, msg=exc))
            except BaseException:
                ledger.record_action(action.id, "unknown", error=_("interrupted while sending"))
                raise
            else:
                ledger.record_action(action.id, "done")
                return "done", None, attempts, None
            finally:
                self._last_send[inst.name] = self.clock()
            if delay is None:
                ledger.record_action(action.id, result, error=error)
                return result, error, attempts, code
            ledger.note_action(action.id, error)
            previous = (result, error)
            try:
                waited = self.pause(delay)
            except BaseException:
                ledger.record_action(action.id, result, error=error)
                raise
            if not waited:  # stopped during the backoff: this attempt's outcome stands
                ledger.record_action(action.id, result, error=error)
                return result, self._stopped(error), attempts, code


def mask(inst: SenderInstance, text: str) -> str:
    """`text` with the sender's secrets masked."""
    from comunicast.senders.registry import mask_secrets

    return mask_secrets(text, inst.secrets)


def _edit(sender: Sender, edit: Edit) -> Callable[[], Receipt]:
    """The edit request of a sender that declared `can_edit` (checked before the claim)."""
    correcting = cast("Correcting", sender)
    return lambda: correcting.edit(edit)


def _withdraw(sender: Sender, withdrawal: Withdrawal) -> Callable[[], Receipt]:
    """The withdrawal request of a sender that declared `can_withdraw`."""
    correcting = cast("Correcting", sender)
    return lambda: correcting.withdraw(withdrawal)


def withdraw_targets(config: Config, ledger: Ledger, draft_id: str,
                     to: Iterable[str] | None) -> list[WithdrawTarget]:
    """The (draft, sender) pairs to withdraw: `to`, else every sender the ledger has it on."""
    from comunicast.senders.registry import sender_instance

    names = list(dict.fromkeys(to)) if to else list(dict.fromkeys(
        p.sender for p in reversed(ledger.publications(draft_id=draft_id))))
    targets = []
    for name in names:
        inst: SenderInstance | ConfigError
        try:
            inst = sender_instance(config, name)
        except ConfigError as exc:
            inst = exc
        targets.append(WithdrawTarget(draft_id, name, inst))
    return targets


# -- what `publish` asks before a first send (hooks in comunicast.publish) ----------------------


def withdrawn_guard(ledger: Ledger, message: Message, *, republish: bool,
                    tz: tzinfo) -> str | Publication | None:
    """Before `publish` claims (draft, sender): None to go on as usual; a refusal (text) when
    the draft was withdrawn and `--republish` is not given; or, with `--republish` of the very
    revision that was withdrawn, that publication, to be claimed again as a new message."""
    pubs = ledger.publications(draft_id=message.draft_id, sender=message.sender)
    sent = [p for p in pubs if p.state == "sent"]
    if not sent or any(not message_state(ledger, p).withdrawn for p in sent):
        return None
    if not republish:
        return withdrawn_refusal(tz, sent[0], ledger)
    same = next((p for p in sent if p.revision == message.revision), None)
    return same  # None: another revision, which --republish sends as a new row


def refused_but_edited(ledger: Ledger, message: Message) -> Publication | None:
    """When `publish` (without --edit) finds another revision sent: the publication that an
    edit already brought to this revision, so it is reported skipped, not refused."""
    return edited_to(ledger, message.draft_id, message.sender, message.revision)
