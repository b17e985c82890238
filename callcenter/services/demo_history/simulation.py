"""The queue simulation of one day: the agent pools and their staffing, the arrivals
(repeat callers, channels, languages), the hour-by-hour roster, and the contacts served
or abandoned as agents free up, with the agents' presence around them. A part of
``HistoryGenerator`` (its set-up attributes); the rows are written by ``rows``."""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time

from callcenter.models import Agent, AgentPresenceEvent, Channel, Language, Presence, Queue
from callcenter.services.demo_history.shapes import (
    BREAK_REASON,
    CHANNEL_WEIGHTS,
    CHATS_PER_AGENT,
    FOREIGN_CHANNELS,
    FOREIGN_SHARE,
    HOLD_SHARE,
    HOUR_WEIGHTS,
    PATIENCE,
    REPEAT_SHARE,
    SHORT_ABANDON,
    TALK,
    WRAP,
    _lognormal,
)
from tickets.sla import SEOUL, is_korean_holiday


@dataclass
class _Pool:
    """The agents answering one queue's contacts; chats let an agent hold several."""

    queue: Queue
    realtime: bool
    share: float
    aht: float
    agents: list[Agent] = field(default_factory=list)

    @property
    def slots(self) -> int:
        return 1 if self.realtime else CHATS_PER_AGENT


@dataclass
class _Arrival:
    at: datetime
    channel: str
    pool: str
    citizen: int
    language: str
    category: int
    repeat: bool


class _QueueSimulation:
    """HistoryGenerator's simulation: who is on duty, who calls, who answers when."""

    def _pools(self, daily: float) -> dict[str, _Pool]:
        video_share = CHANNEL_WEIGHTS[Channel.VIDEO] / sum(CHANNEL_WEIGHTS.values())
        ko = 1 - FOREIGN_SHARE
        voice = CHANNEL_WEIGHTS[Channel.VOICE] / sum(CHANNEL_WEIGHTS.values())
        pools = {
            "sign-video": _Pool(self.queues["sign-video"], True, ko * video_share, 470),
            "foreign": _Pool(self.queues["foreign"], True, FOREIGN_SHARE, 260),
            "general": _Pool(self.queues["general"], True, ko * voice, 250),
            "chat": _Pool(self.queues["chat"], False, ko * (1 - voice - video_share), 560),
        }
        # The busiest hour: a Monday's (× 1.24) 10:00 (about a tenth of the day).
        need = {name: self._staff(pool, daily * 1.24 * 0.1, 1.4) for name, pool in pools.items()}
        signing, speaking, rest = [], [], []
        for agent in self.agents:
            codes = {skill.code for skill in agent.skills.all()}
            if "sign-language" in codes:
                signing.append(agent)
            elif codes & {"lang-en", "lang-zh", "lang-ja", "lang-vi", "lang-mn"}:
                speaking.append(agent)
            else:
                rest.append(agent)
        if not signing:
            raise ValueError("The video queue needs an agent with the sign-language skill.")
        pools["sign-video"].agents = signing
        take = min(len(speaking), max(need["foreign"], 1))
        pools["foreign"].agents, rest = speaking[:take], speaking[take:] + rest
        if not pools["foreign"].agents:
            pools["foreign"].agents, rest = rest[:1], rest[1:]
        general = max(1, round(len(rest) * need["general"] / (need["general"] + need["chat"])))
        general = min(general, len(rest) - 1)
        pools["general"].agents, pools["chat"].agents = rest[:general], rest[general:]
        if not pools["chat"].agents or not pools["general"].agents:
            raise ValueError("Too few agents for the generated history.")
        return pools

    @staticmethod
    def _staff(pool: _Pool, contacts_per_hour: float, margin: float) -> int:
        erlangs = contacts_per_hour * pool.share * pool.aht / 3600 / pool.slots
        return max(1, math.ceil(erlangs + margin * math.sqrt(erlangs)))

    # --- one day -----------------------------------------------------------------------
    def _arrivals(self, day: date, volume: int) -> list[_Arrival]:
        rng = self.rng
        midnight = datetime.combine(day, time(0), SEOUL).timestamp()
        hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=volume)
        stamps = sorted(midnight + hour * 3600 + rng.random() * 3600 for hour in hours)
        foreign_open = day.weekday() < 5 and not is_korean_holiday(day)
        channels, channel_weights = zip(*CHANNEL_WEIGHTS.items(), strict=True)
        foreign_channels, foreign_weights = zip(*FOREIGN_CHANNELS.items(), strict=True)
        recent = [ticketed for ticketed in self.recent[-6:] if ticketed]
        arrivals = []
        for stamp in stamps:
            at = datetime.fromtimestamp(stamp, SEOUL)
            if at >= self.cutoff:
                break
            if recent and rng.random() < REPEAT_SHARE:
                # Recent days first: people call back the next day more than a week later.
                pick = recent[-1 - min(int(rng.expovariate(0.6)), len(recent) - 1)]
                citizen, category = rng.choice(pick)
                repeat = True
            else:
                citizen = rng.choice(self.citizen_ids)
                category = rng.choices(range(len(self.categories)), self.category_weights)[0]
                repeat = False
            language = self.citizen_language.get(citizen, Language.KOREAN)
            if language == Language.KOREAN:
                channel = rng.choices(channels, channel_weights)[0]
            else:
                channel = rng.choices(foreign_channels, foreign_weights)[0]
            if channel == Channel.VIDEO:
                pool = "sign-video"
            elif language != Language.KOREAN and foreign_open and 9 <= at.hour < 18:
                pool = "foreign"
            else:
                pool = "general" if channel == Channel.VOICE else "chat"
            arrivals.append(_Arrival(at, channel, pool, citizen, language, category, repeat))
        return arrivals

    def _roster(self, index: int, day: date, volume: int) -> dict[str, list[set[int]]]:
        """Agents on duty by pool and hour: as many as the expected load needs with a margin
        that changes by the hour; the day's and the night's rota turn every day."""
        rng = self.rng
        total = sum(HOUR_WEIGHTS)
        roster = {}
        for name, pool in self.pools.items():
            agents = self.pool_agents[name]
            count = len(agents)
            day_order = [agents[(index * 3 + k) % count] for k in range(count)]
            night_order = [agents[(index * 3 + count // 2 + k) % count] for k in range(count)]
            hours = []
            for hour in range(24):
                expected = volume * HOUR_WEIGHTS[hour] / total
                staff = min(count, self._staff(pool, expected, rng.uniform(0.0, 1.2)))
                order = day_order if 7 <= hour < 22 else night_order
                hours.append(set(order[:staff]))
            roster[name] = hours
        return roster

    def _day(self, index: int, day: date, volume: int) -> int:
        arrivals = self._arrivals(day, volume)
        roster = self._roster(index, day, volume)
        by_pool: dict[str, list[_Arrival]] = defaultdict(list)
        for arrival in arrivals:
            by_pool[arrival.pool].append(arrival)
        contacts: list[dict] = []
        presence: list[tuple[float, int, int, str, str]] = []
        midnight = datetime.combine(day, time(0), SEOUL).timestamp()
        cutoff = self.cutoff.astimezone(SEOUL)
        last_hour = 23 if day < cutoff.date() else cutoff.hour
        for name, pool in self.pools.items():
            self._simulate(
                pool, self.pool_agents[name], by_pool[name], roster[name], midnight, last_hour,
                contacts, presence,
            )  # fmt: skip
        if day >= cutoff.date():
            self._close_shifts(presence)
        contacts.sort(key=lambda row: row["queued_at"])
        ticketed: list[tuple[int, int]] = []
        for row in contacts:
            self._write_contact(row, ticketed)
        self.recent.append(ticketed)
        presence.sort()
        for stamp, _order, agent, state, reason in presence:
            self.writer.add(
                AgentPresenceEvent,
                {
                    "agent_id": agent,
                    "presence": state,
                    "reason": reason,
                    "created_at": datetime.fromtimestamp(stamp, SEOUL),
                },
            )
        self.counts.contacts += len(contacts)
        return len(contacts)

    def _simulate(
        self,
        pool: _Pool,
        agents: list[int],
        arrivals: list[_Arrival],
        roster: list[set[int]],
        midnight: float,
        last_hour: int,
        contacts: list[dict],
        presence: list,
    ) -> None:
        rng = self.rng
        heap: list[tuple[float, int, int]] = []
        position = 0
        for hour in range(last_hour + 1):
            boundary = midnight + hour * 3600
            self._shift_change(pool, agents, roster, hour, boundary, presence)
            heap = [
                (max(self.slot_free.get((agent, slot), 0.0), boundary), agent, slot)
                for agent in agents
                if self.on_duty.get(agent)
                for slot in range(pool.slots)
            ]
            heapq.heapify(heap)
            while position < len(arrivals) and arrivals[position].at.hour == hour:
                arrival = arrivals[position]
                position += 1
                contacts.append(self._serve(pool, arrival, heap, presence, rng))

    def _shift_change(self, pool, agents, roster, hour, boundary, presence) -> None:
        on = roster[hour]
        for agent in agents:
            was = self.on_duty.get(agent, False)
            now = agent in on
            if now and not was:
                at = max(boundary, self.free_until.get(agent, 0.0))
                presence.append((at, 3, agent, Presence.AVAILABLE, ""))
            elif was and not now:
                at = max(boundary, self.free_until.get(agent, 0.0))
                later = any(agent in roster[h] for h in range(hour + 1, 24))
                state, reason = (Presence.BREAK, BREAK_REASON) if later else (Presence.OFFLINE, "")
                presence.append((at, 2, agent, state, reason))
            self.on_duty[agent] = now

    def _close_shifts(self, presence) -> None:
        """The history ends before now: every agent still on duty signs off."""
        end = self.cutoff.timestamp()
        for agent, on in self.on_duty.items():
            if on:
                at = max(end, self.free_until.get(agent, 0.0))
                presence.append((at, 2, agent, Presence.OFFLINE, ""))
                self.on_duty[agent] = False

    def _serve(self, pool: _Pool, arrival: _Arrival, heap, presence, rng) -> dict:
        channel = arrival.channel
        queued = arrival.at.timestamp()
        short = rng.random() < SHORT_ABANDON.get(channel, 0.01)
        if short:
            patience = rng.uniform(1.0, 5.0)
        else:
            patience = min(3600.0, 6 + rng.expovariate(1 / PATIENCE[channel]))
        inquiry = rng.randrange(len(self.category_inquiries[arrival.category]))
        row = {
            "arrival": arrival,
            "inquiry": inquiry,
            "queued_at": queued,
            "agent": None,
        }
        if not heap:
            row["abandoned_at"] = queued + patience
            return row
        free_at, agent, slot = heap[0]
        ring = rng.uniform(2.0, 8.0) if pool.realtime else rng.uniform(3.0, 20.0)
        answered = max(queued, free_at) + ring
        if answered - queued > patience:
            row["abandoned_at"] = queued + patience
            return row
        talk = _lognormal(rng, *TALK[channel], 20, 3600)
        hold = rng.uniform(15, 150) if channel == Channel.VOICE and rng.random() < HOLD_SHARE else 0
        hold = int(hold)
        ended = answered + talk + hold
        wrapped = ended + _lognormal(rng, *WRAP[channel], 5, 600)
        heapq.heapreplace(heap, (wrapped, agent, slot))
        self.slot_free[agent, slot] = wrapped
        self.free_until[agent] = max(self.free_until.get(agent, 0.0), wrapped)
        if pool.realtime:
            presence.append((answered, 1, agent, Presence.BUSY, ""))
            presence.append((ended, 1, agent, Presence.WRAPUP, ""))
            presence.append((wrapped, 1, agent, Presence.AVAILABLE, ""))
        row.update(
            agent=agent, ring=ring, answered=answered, ended=ended, wrapped=wrapped, hold=hold
        )
        return row
