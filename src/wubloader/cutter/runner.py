"""The job runner: find candidates, claim them on a lease, run up to `jobs` at once, reap dead claims."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import timedelta
from typing import TYPE_CHECKING

from wubloader.cutter import metrics
from wubloader.cutter.candidates import MissingData, cut_inputs
from wubloader.cutter.job import JobRun
from wubloader.cutter.job_state import JobOutcome, Outcome
from wubloader.db import cutter_jobs as q
from wubloader.db.errors import DatabaseError
from wubloader.store.errors import StoreError

if TYPE_CHECKING:
    from wubloader.cutter.backend import UploadBackend
    from wubloader.cutter.job import JobServices
    from wubloader.db.cutter_jobs import CutJob

logger = logging.getLogger(__name__)

DB_RETRY_PAUSE = 5.0


class JobRunner:
    """Claims and runs jobs until `stop`; with `config.once`, until nothing more can be claimed now."""

    def __init__(
        self, services: JobServices, backends: dict[str, UploadBackend], stop: asyncio.Event
    ) -> None:
        self.services = services
        self.config = services.config
        self.backends = backends
        self.stop = stop
        self.wake = asyncio.Event()
        self.running: dict[str, JobRun] = {}
        self.outcomes: list[JobOutcome] = []
        self._not_before: dict[str, float] = {}  # job id → monotonic time it may be retried here
        self._tried: set[str] = set()
        self._lease = timedelta(seconds=self.config.lease)

    def notify(self, event_id: str) -> None:
        """A row entered EDITED (NOTIFY): look for work now."""
        logger.debug("woken by edit of %s", event_id)
        self.wake.set()

    async def run(self) -> bool:
        """Start-up cleanup, then the claim loop; True if every job this run finished succeeded."""
        await self._startup_cleanup()
        async with asyncio.TaskGroup() as group:
            reaper = group.create_task(self._reap_forever())
            while not self.stop.is_set():
                started = await self._fill_slots(group)
                if self.config.once and not started and not self.running:
                    break
                await self._sleep()
            await self._drain()
            reaper.cancel()
        return all(outcome.succeeded for outcome in self.outcomes)

    async def _sleep(self) -> None:
        """Until woken (NOTIFY, a slot freed, stop) or the poll interval passed."""
        waiters = [asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(self.stop.wait())]
        interval = self.config.poll_interval * random.uniform(0.9, 1.1)
        try:
            await asyncio.wait(waiters, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        self.wake.clear()

    async def _startup_cleanup(self) -> None:
        while True:
            try:
                released, stuck = await self.services.database.run(q.rollback_own, name=self.config.name)
                break
            except (DatabaseError, TimeoutError) as exc:
                logger.warning("database not reachable at start-up (%s); retrying", exc)
                try:
                    async with asyncio.timeout(DB_RETRY_PAUSE):
                        await self.stop.wait()
                    return
                except TimeoutError:
                    continue
        for job_id in released:
            logger.warning("start-up: released our claim on %s (a previous run died holding it)", job_id)
        for job_id in stuck:
            logger.error("start-up: %s was FINALIZING under our name: an operator must check it", job_id)

    async def _reap_forever(self) -> None:
        """Return expired claims of dead cutters to EDITED (any cutter may do this; it is idempotent)."""
        while True:
            await asyncio.sleep(self.config.lease / 3)
            try:
                released = await self.services.database.run(q.release_expired, now=self.services.now())
            except (DatabaseError, TimeoutError) as exc:
                logger.warning("cannot release expired claims: %s", exc)
                continue
            for job_id in released:
                metrics.LEASES_RELEASED.inc()
                logger.warning("claim on %s expired (its cutter died): back to EDITED", job_id)
            if released:
                self.wake.set()

    async def _fill_slots(self, group: asyncio.TaskGroup) -> int:
        """Claim candidates until every slot is busy; returns how many jobs were started."""
        if len(self.running) >= self.config.jobs:
            return 0
        try:
            candidates = await self.services.database.run(
                q.list_candidates,
                name=self.config.name,
                locations=self.config.uploading_locations,
                explicit_only=self.config.explicit_only,
            )
        except (DatabaseError, TimeoutError) as exc:
            logger.warning("cannot list candidates: %s", exc)
            return 0
        random.shuffle(candidates)  # racing cutters then mostly try different rows
        started = 0
        for job in candidates:
            if len(self.running) >= self.config.jobs or self.stop.is_set():
                break
            if self._skip(job) or not await self._try_start(job, group):
                continue
            started += 1
        if not started and not self.running:
            metrics.NO_CANDIDATES.inc()
        return started

    def _skip(self, job: CutJob) -> bool:
        if job.id in self.running or (self.config.once and job.id in self._tried):
            return True
        return self._not_before.get(job.id, 0.0) > time.monotonic()

    async def _try_start(self, job: CutJob, group: asyncio.TaskGroup) -> bool:
        try:
            inputs = await asyncio.to_thread(cut_inputs, job, self.services.index, self.services.now())
        except (ValueError, StoreError, OSError) as exc:
            await self._note(job, f"{self.config.name}: Error while checking candidate: {exc}")
            return False
        if isinstance(inputs, MissingData):
            metrics.MISSING_DATA.inc()
            await self._note(job, inputs.note(self.config.name))
            return False
        try:
            claim = await self.services.database.run(
                q.claim_job, job, name=self.config.name, now=self.services.now(), lease=self._lease
            )
        except (DatabaseError, TimeoutError) as exc:
            logger.warning("cannot claim %s: %s", job.id, exc)
            return False
        if claim is None:
            metrics.CLAIM_CONFLICTS.inc()
            logger.info("lost the claim on %s to another cutter (or it was edited)", job.id)
            return False
        location = self.config.locations[job.edit.upload_location or ""]
        run = JobRun(self.services, job, claim, inputs, location, self.backends[location.name])
        logger.info("claimed %s for %s (%s cut)", job.id, location.name, location.cut_type)
        self.running[job.id] = run
        self._tried.add(job.id)
        group.create_task(self._run_job(run))
        return True

    async def _note(self, job: CutJob, text: str) -> None:
        try:
            await self.services.database.run(q.note_candidate, job, error=text)
        except (DatabaseError, TimeoutError) as exc:
            logger.warning("cannot note %s on %s: %s", text, job.id, exc)

    async def _run_job(self, run: JobRun) -> None:
        metrics.JOBS_RUNNING.inc()
        try:
            try:
                outcome = await run.run()
            except Exception as exc:  # e.g. the database vanished while writing the outcome
                logger.exception("job %s: could not record its outcome", run.job.id)
                outcome = JobOutcome(outcome=Outcome.RETRY, message=f"outcome not recorded: {exc}")
            self.outcomes.append(outcome)
            logger.info("job %s: %s: %s", run.job.id, outcome.outcome, outcome.message)
            if not outcome.succeeded:
                self._not_before[run.job.id] = time.monotonic() + self.config.retry_pause
        finally:
            metrics.JOBS_RUNNING.dec()
            del self.running[run.job.id]
            self.wake.set()

    async def _drain(self) -> None:
        """After a stop: let running jobs finish up to the drain deadline, then stop (and release) them."""
        deadline = time.monotonic() + self.config.drain_timeout
        while self.running and time.monotonic() < deadline:
            self.wake.clear()
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    await self.wake.wait()
            except TimeoutError:
                break
        for run in list(self.running.values()):
            logger.warning("job %s did not finish within the drain timeout: stopping it", run.job.id)
            run.stop()
