"""The server's scheduler service (server/services/scheduler.py; models/deployments.py
_generate_scheduled_flow_runs): runs are created ahead for each active schedule of each deployment
that is not paused, with no one asking.

Every PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS (60) a deployment is scheduled when one of its
active schedules has fewer than 3 auto-scheduled runs ahead or none an hour ahead; one changed in the
last PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS (5) is scheduled at once. Each
schedule gets dates from now on until it has at least 3 and reaches an hour ahead, at most 100 and
100 days ahead. The idempotency key `scheduled {deployment} {schedule} {date}` keeps one run per date.
Cron and interval schedules are expanded here; an rrule schedule gets no runs (the stand-in has no
rrule parser), which a test using one would notice."""
import datetime
import threading
import time
import traceback
from zoneinfo import ZoneInfo

from . import settings

MIN_RUNS = 3
MAX_RUNS = 100
MIN_AHEAD = datetime.timedelta(hours=1)
MAX_AHEAD = datetime.timedelta(days=100)
MONTHS = {name: i + 1 for i, name in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
WEEKDAYS = {name: i for i, name in enumerate("sun mon tue wed thu fri sat".split())}
ALIASES = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
           "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


def start(api, now):
    """The scheduler's two loops in one thread: the recent pass often, the full pass every loop."""
    if str(settings.get("PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED")).lower() in ("false", "0", "no"):
        return
    every = float(settings.get("PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS"))
    recent = float(settings.get("PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS"))

    def loop():
        last_full = None
        while True:
            full = last_full is None or time.monotonic() - last_full >= every
            if full:
                last_full = time.monotonic()
            try:
                schedule_deployments(api, now(), None if full else datetime.timedelta(seconds=recent + 1))
            except Exception:  # noqa: BLE001 - the real service logs a failed pass and carries on
                traceback.print_exc()
            time.sleep(min(every, recent))

    threading.Thread(target=loop, daemon=True).start()


def schedule_deployments(api, current, changed_within=None):
    """One pass: the deployments that need runs (or, with changed_within, those changed that recently)
    get their runs; dates that have a run already are skipped."""
    with api.deployment_writes:
        runs = api.store.all("flow_runs")
        keys = {r["idempotency_key"] for r in runs if r.get("idempotency_key")}
        for deployment in api.store.all("deployments"):
            active = [s for s in deployment["schedules"] if s["active"]]
            if deployment["paused"] or not active:
                continue
            if changed_within is not None:
                wanted = changed_since(deployment, active, current - changed_within)
            else:
                wanted = any(needs_runs(s, runs, current) for s in active)
            if not wanted:
                continue
            for s in active:
                for date in schedule_dates(s["schedule"], current):
                    key = f"scheduled {deployment['id']} {s['id']} {date}"
                    if key not in keys:
                        keys.add(key)
                        api.insert_scheduled_run(deployment, s, date, key)


def changed_since(deployment, active, since):
    stamps = [deployment["updated"]] + [s["updated"] for s in active]
    return any(parse(t) >= since for t in stamps)


def needs_runs(schedule, runs, current):
    ahead = [parse(r["next_scheduled_start_time"]) for r in runs
             if r["auto_scheduled"] and r["state_type"] == "SCHEDULED" and (r.get("created_by") or {}).get("id") == schedule["id"]
             and parse(r["next_scheduled_start_time"]) >= current]
    return len(ahead) < MIN_RUNS or max(ahead) < current + MIN_AHEAD


def parse(text):
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def schedule_dates(schedule, current):
    """The dates of one schedule from `current` on, as _generate_scheduled_flow_runs takes them."""
    if schedule.get("cron"):
        candidates = cron_dates(schedule["cron"], schedule.get("timezone"), schedule.get("day_or", True), current, current + MAX_AHEAD)
    elif schedule.get("interval"):
        candidates = interval_dates(schedule, current)
    else:
        return []
    dates = []
    for date in candidates:
        if date > current + MAX_AHEAD or len(dates) == MAX_RUNS:
            break
        dates.append(date)
        if len(dates) >= MIN_RUNS and date >= current + MIN_AHEAD:
            break
    return dates


def interval_dates(schedule, current):
    """anchor_date + k * interval, on or after `current`, in the schedule's time zone."""
    zone = ZoneInfo(schedule.get("timezone") or "UTC")
    anchor = parse(schedule["anchor_date"]) if schedule.get("anchor_date") else current
    step = datetime.timedelta(seconds=float(schedule["interval"]))
    k = max(0, -((anchor - current) // step))
    while True:
        yield (anchor + k * step).astimezone(zone)
        k += 1


def cron_dates(expression, timezone, day_or, current, until):
    """Every minute from `current` to `until` that the expression matches in its time zone (croniter's
    fields, names and aliases); walked in UTC, so a wall-clock minute skipped by DST has no run."""
    zone = ZoneInfo(timezone or "UTC")
    minute, hour, day, month, weekday = parse_cron(expression)
    day_any = expression_field(expression, 2) == "*"
    weekday_any = expression_field(expression, 4) == "*"
    moment = current.replace(second=0, microsecond=0)
    if moment < current:
        moment += datetime.timedelta(minutes=1)
    while moment <= until:
        local = moment.astimezone(zone)
        on_day = local.day in day
        on_weekday = (local.isoweekday() % 7) in weekday
        if day_any or weekday_any:
            day_matches = on_day and on_weekday
        else:
            day_matches = (on_day or on_weekday) if day_or else (on_day and on_weekday)
        if not (day_matches and local.month in month and local.hour in hour):
            # Nothing this hour: on to the next one.
            moment += datetime.timedelta(minutes=60 - local.minute)
            continue
        if local.minute in minute:
            yield local
        moment += datetime.timedelta(minutes=1)


def expression_field(expression, index):
    return ALIASES.get(expression.strip(), expression).split()[index]


def parse_cron(expression):
    fields = ALIASES.get(expression.strip(), expression).split()
    if len(fields) != 5:
        raise ValueError(f"the stand-in reads five-field cron expressions, not {expression!r}")
    ranges = [(0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, MONTHS), (0, 7, WEEKDAYS)]
    minute, hour, day, month, weekday = (cron_field(text, *r) for text, r in zip(fields, ranges))
    return minute, hour, day, month, {d % 7 for d in weekday}


def cron_field(text, low, high, names):
    values = set()
    for part in text.lower().split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = low, high
        else:
            first_text, _, last_text = span.partition("-")
            first = int(names.get(first_text, first_text))
            last = int(names.get(last_text, last_text)) if last_text else (high if step else first)
        values.update(range(first, last + 1, int(step) if step else 1))
    return values
