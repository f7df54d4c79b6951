#!/usr/bin/env python3
"""make bench: throughput, request economy and cost of a full read through the wasmtime CLI.

Starts the bundled test server with a sized account, reads every stream, and reports: requests,
wall time, achieved requests/s, most requests begun in any one second, records/s, CPU per record
(user+sys of the wasmtime process / records), peak RSS, and the floor (fewest requests that can
fetch the data / rate) with wall time / floor. Then an unthrottled, zero-latency read of a large
account for CPU per record and peak RSS. With WHEEL (make bench passes the `make wheel` file), the
same smaller account at 300 ms is also read by the wheel's `source-activecampaign` (in-process on
wasmtime's Python package), and its first and cached start times are given.
"""
import argparse, calendar, hashlib, shutil, json, math, os, subprocess, sys, tempfile, time

def start_server(binary, log, contacts, rps, latency, key, extra=()):
    ready = tempfile.NamedTemporaryFile(delete=False)
    proc = subprocess.Popen([binary, "--port", "0", "--log", log, "--contacts", str(contacts), "--rps", str(rps),
                             "--latency-ms", str(latency), "--api-key", key, *extra], stdout=ready, stderr=subprocess.DEVNULL)
    for _ in range(600):
        with open(ready.name) as f:
            line = f.read()
        if "listening on" in line:
            return proc, line.split("listening on", 1)[1].strip()
        if proc.poll() is not None:
            sys.exit("test server did not start")
        time.sleep(0.1)
    sys.exit("test server did not start in time")

# Streams whose records ride on their parent's pages (contact children, the /fields sideloads).
SIDELOADED = {"contact_custom_field_values", "contact_tags", "contact_lists",
              "contact_custom_field_options", "contact_custom_field_rels"}

def fewest_requests(records):
    """Fewest requests that fetch these records: the key check, the custom object schemas, one
    request per 100 records of each list (at least one per list); contact children ride on the
    contacts pages, the three /fields streams share their pages."""
    n = 2
    for stream, count in records.items():
        if stream in SIDELOADED:
            continue
        n += max(1, math.ceil(count / 100))
    return n

def fewest_overlapping(records):
    """Fewest requests of a reader that checks every offset page against the one before (one
    record of overlap, the churn rule of src/rules/paging.rs): a list of n > 100 records takes
    1 + ceil((n - 100) / 99) pages, one more when that last page is full. Contacts (keyset by id,
    no overlap) take one per 100; the rest as in fewest_requests."""
    n = 2
    for stream, count in records.items():
        if stream in SIDELOADED:
            continue
        if stream == "contacts" or count < 100:
            n += max(1, math.ceil(count / 100)) + (1 if count == 100 else 0)
        else:
            n += 1 + math.ceil((count - 100) / 99) + (1 if (count - 100) % 99 == 0 else 0)
    return n

def max_in_window(starts_ms, window=1000.0):
    s = sorted(starts_ms); best = lo = 0
    for hi in range(len(s)):
        while s[hi] - s[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best

def dedup_catalog(component, workdir, incremental=False):
    """A configured catalog of every discovered stream into a deduplicating destination, full
    refresh (or incremental where offered): the connector then keeps every stream's ids and
    finds deletions."""
    out = subprocess.run(["wasmtime", "run", "-S", "http", "--dir", f"{workdir}::/data", component,
                          "discover", "--config", "/data/config.json"], capture_output=True, text=True, check=True)
    cat = next(json.loads(l)["catalog"] for l in out.stdout.splitlines() if '"type":"CATALOG"' in l)
    mode = lambda s: "incremental" if incremental and "incremental" in s["supported_sync_modes"] else "full_refresh"
    streams = [{"stream": s, "sync_mode": mode(s), "destination_sync_mode": "append_dedup"} for s in cat["streams"]]
    with open(os.path.join(workdir, "catalog.json"), "w") as f:
        json.dump({"streams": streams}, f)
    return ["--catalog", "/data/catalog.json"]

def run_read(component, workdir, config, tracked=False, wheel=None, log=None):
    """One read: through the wasmtime CLI, or with `wheel` (the wheel's `source-activecampaign`),
    in-process on wasmtime's Python package, paths as the caller's. `log`: the server's request
    log, to count the read's own requests."""
    with open(os.path.join(workdir, "config.json"), "w") as f:
        json.dump(config, f)
    catalog = dedup_catalog(component, workdir) if tracked else []
    # The read's requests only: discovery's (the key check, custom objects, custom fields) are not.
    before = sum(1 for _ in open(log)) if log and os.path.exists(log) else 0
    out_path = os.path.join(workdir, "records.jsonl")
    if wheel:
        cmd = [wheel, "read", "--config", os.path.join(workdir, "config.json"),
               *[c.replace("/data", workdir, 1) for c in catalog]]
    else:
        cmd = ["wasmtime", "run", "-S", "http", "--dir", f"{workdir}::/data", component,
               "read", "--config", "/data/config.json", *catalog]
    t0 = time.monotonic()
    with open(out_path, "wb") as out, open(os.path.join(workdir, "read.log"), "wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    records, state_bytes = {}, 0
    with open(out_path) as f:
        for line in f:
            if line.startswith('{"type":"RECORD"'):
                stream = json.loads(line)["record"]["stream"]
                records[stream] = records.get(stream, 0) + 1
            elif '"type":"STATE"' in line:
                state_bytes = max(state_bytes, len(line))
    return {"before": before, "exit": os.waitstatus_to_exitcode(status), "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024, "records": records, "max_state_bytes": state_bytes}

def wheel_program(wheel, out):
    """The wheel's `source-activecampaign`, installed once per wheel in OUT/wheel-venv (pip, from
    the wheel file and PyPI), with its compiled-code cache in OUT/wheel-cache; prints the first
    start (compiles) and the second (cached) of `spec`."""
    venv = os.path.join(out, "wheel-venv")
    digest = hashlib.sha256(open(wheel, "rb").read()).hexdigest()
    stamp = os.path.join(venv, ".wheel")
    if not os.path.exists(stamp) or open(stamp).read() != digest:
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", wheel], check=True)
        with open(stamp, "w") as f:
            f.write(digest)
    exe = os.path.join(venv, "bin", "source-activecampaign")
    cache = os.path.join(out, "wheel-cache")
    shutil.rmtree(cache, ignore_errors=True)
    os.environ["SOURCE_ACTIVECAMPAIGN_CACHE_DIR"] = cache
    starts = []
    for _ in range(2):
        t0 = time.monotonic()
        subprocess.run([exe, "spec"], stdout=subprocess.DEVNULL, check=True)
        starts.append(time.monotonic() - t0)
    print(f"  wheel: spec {starts[0]:.2f} s at the first start (compiles), {starts[1]:.2f} s cached", flush=True)
    return exe, starts

def scenario(args, name, contacts, latency, rps, connector_rps, headers=True, jitter=0, tracked=False, wheel=None):
    workdir = tempfile.mkdtemp(prefix="ac-bench-")
    log = os.path.join(workdir, "server.jsonl")
    key = "bench-key"
    extra = ([] if headers else ["--no-rate-headers"]) + (["--arrival-jitter-ms", str(jitter)] if jitter else [])
    server, base = start_server(args.server, log, contacts, rps, latency, key, extra)
    try:
        r = run_read(args.component, workdir, {"api_url": base, "api_key": key, "requests_per_second": connector_rps}, tracked, wheel, log)
    finally:
        server.terminate(); server.wait()
    reqs = [json.loads(l) for l in open(log)][r["before"]:]
    total_records = sum(r["records"].values())
    fewest = fewest_requests(r["records"])
    floor = fewest / connector_rps
    row = {
        "scenario": name, "contacts": contacts, "latency_ms": latency, "rate": connector_rps, "exit": r["exit"],
        "ratelimit_headers": headers and rps > 0, "arrival_jitter_ms": jitter,
        "requests": len(reqs), "fewest_requests": fewest, "requests_vs_fewest": len(reqs) / fewest,
        "fewest_overlapping": fewest_overlapping(r["records"]),
        "wall_s": r["wall_s"], "floor_s": floor, "wall_vs_floor": r["wall_s"] / floor,
        "achieved_rps": len(reqs) / r["wall_s"], "max_in_1s": max_in_window([q["start_ms"] for q in reqs]),
        "http_429": sum(1 for q in reqs if q["status"] == 429), "records": total_records,
        "http_429_per_1000": 1000 * sum(1 for q in reqs if q["status"] == 429) / max(1, len(reqs)),
        "records_per_s": total_records / r["wall_s"], "cpu_us_per_record": r["cpu_s"] * 1e6 / max(1, total_records),
        "peak_rss_mb": r["peak_rss_mb"], "max_state_bytes": r["max_state_bytes"],
    }
    print(f"  {name}: {row['requests']} requests (fewest {fewest}, with overlap {row['fewest_overlapping']}), {row['wall_s']:.1f} s (floor {floor:.1f} s), "
          f"wall/floor {row['wall_vs_floor']:.3f}, {row['http_429']} 429s, {row['records']} records, exit {row['exit']}", flush=True)
    if not os.environ.get("KEEP"):  # the records and logs take hundreds of MB; KEEP=1 keeps them
        shutil.rmtree(workdir, ignore_errors=True)
    return row

# A day of ordinary changes on a 20,000-contact account, scaled to the account: 2 % of
# contacts updated, new contacts, tags added and removed, list memberships and field values
# changed, a few contacts (with their tags, lists and values) and deals deleted.
def day_of_changes(contacts):
    k = contacts / 20000
    n = lambda x: max(1, round(x * k))
    return [("contacts", n(400), n(60), n(105)), ("contact_tags", n(50), n(300), n(80)),
            ("contact_lists", n(200), n(60), 0), ("contact_custom_field_values", n(300), 0, 0),
            ("deals", n(40), n(10), n(5)), ("email_activities", 0, n(200), 0),
            ("contact_automations", n(100), n(50), 0), ("ecommerce_orders", n(20), n(10), 0)]

def admin_change(base, stream, touch, insert, delete):
    import urllib.request
    url = f"{base.split('/api/3')[0]}/__admin/change?stream={stream}&touch={touch}&insert={insert}&delete={delete}"
    with urllib.request.urlopen(url) as r:
        return json.loads(r.read())

def sync_records(path):
    """Ids delivered per stream, and ids deleted per stream, in one read's output."""
    got, gone = {}, {}
    for line in open(path):
        if line.startswith('{"type":"RECORD"'):
            rec = json.loads(line)["record"]
            target = gone if "_ab_cdc_deleted_at" in rec["data"] else got
            target.setdefault(rec["stream"], set()).add(str(rec["data"].get("id")))
    return got, gone

def last_states(path, age_hours=0):
    """The last STATE per stream of a read, as the next --state; `age_hours` moves each baseline's
    time back, as if that long had passed (the sweep due)."""
    states = {}
    for line in open(path):
        if '"type":"STATE"' in line and not line.startswith('{"type":"RECORD"'):
            m = json.loads(line)
            st = m["state"]
            seen = st["stream"]["stream_state"].get("seen")
            if seen and age_hours:
                t = time.strptime(seen["at"][:19], "%Y-%m-%dT%H:%M:%S")
                seen["at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(calendar.timegm(t) - age_hours * 3600))
            states[st["stream"]["stream_descriptor"]["name"]] = st
    return list(states.values())

def sweep_rows(args, contacts, quirks=(), label=""):
    """Full read, a day's changes, a sync between sweeps (inside full_sweep_hours), then the same
    sync as if the interval had passed (each baseline 25 h older): requests against the full
    read's, and that the sweep delivers every change and deletion the in-between sync left.
    `quirks`: test-server switches (e.g. every orders[...] ignored), named by `label`."""
    workdir = tempfile.mkdtemp(prefix="ac-bench-sweep-")
    log = os.path.join(workdir, "server.jsonl")
    key = "bench-key"
    server, base = start_server(args.server, log, contacts, 0, 0, key, [a for q in quirks for a in ("--quirk", q)])
    rows = []
    try:
        config = {"api_url": base, "api_key": key, "requests_per_second": 100}
        with open(os.path.join(workdir, "config.json"), "w") as f:
            json.dump(config, f)
        catalog = dedup_catalog(args.component, workdir, incremental=True)
        def read(name, state=None):
            if state is not None:
                with open(os.path.join(workdir, "state.json"), "w") as f:
                    json.dump(state, f)
            before = sum(1 for _ in open(log))
            out = os.path.join(workdir, f"{name}.jsonl")
            with open(out, "wb") as o, open(os.path.join(workdir, f"{name}.log"), "wb") as e:
                cmd = ["wasmtime", "run", "-S", "http", "--dir", f"{workdir}::/data", args.component, "read",
                       "--config", "/data/config.json", *catalog] + (["--state", "/data/state.json"] if state is not None else [])
                code = subprocess.run(cmd, stdout=o, stderr=e).returncode
            return out, sum(1 for _ in open(log)) - before, code
        full, full_req, c1 = read("full")
        changed, deleted = {}, {}
        for stream, touch, insert, delete in day_of_changes(contacts):
            r = admin_change(base, stream, touch, insert, delete)
            changed.setdefault(stream, set()).update(r["touched"] + r["inserted"])
            deleted.setdefault(stream, set()).update(r.get("deleted", []))
        between, between_req, c2 = read("between", last_states(full))
        sweep, sweep_req, c3 = read("sweep", last_states(between, age_hours=25))
        got_b, gone_b = sync_records(between)
        got_s, gone_s = sync_records(sweep)
        # A record changed and then deleted the same day is a deletion, not a change to deliver.
        for stream, ids in deleted.items():
            changed.get(stream, set()).difference_update(ids)
        lost = {s: sorted(ids - got_b.get(s, set()) - got_s.get(s, set())) for s, ids in changed.items()}
        lost = {s: v for s, v in lost.items() if v}
        if lost:
            print(f"  changes delivered by neither sync: {lost}", flush=True)
        missing = sum(len(v) for v in lost.values())
        undeleted = sum(len(ids - gone_b.get(s, set()) - gone_s.get(s, set())) for s, ids in deleted.items())
        changes = sum(len(v) for v in changed.values())
        deletions = sum(len(v) for v in deleted.values())
        for name, req, got, gone, code in [("full read" + label, full_req, None, None, c1),
                                            ("between sweeps" + label, between_req, got_b, gone_b, c2),
                                            ("sweep" + label, sweep_req, got_s, gone_s, c3)]:
            rows.append({"sync": name, "contacts": contacts, "requests": req, "vs_full": req / full_req,
                         "changes_delivered": "—" if got is None else sum(len(changed.get(s, set()) & ids) for s, ids in got.items()),
                         "deletions_delivered": "—" if gone is None else sum(len(deleted.get(s, set()) & ids) for s, ids in gone.items()),
                         "exit": code})
        rows.append({"sync": f"after both{label}: {changes} changes, {deletions} deletions", "contacts": contacts, "requests": "", "vs_full": "",
                     "changes_delivered": f"{changes - missing} (missing {missing})", "deletions_delivered": f"{deletions - undeleted} (missing {undeleted})", "exit": ""})
        for r in rows:
            print(f"  {r['sync']}: {r['requests']} requests, changes {r['changes_delivered']}, deletions {r['deletions_delivered']}", flush=True)
    finally:
        server.terminate(); server.wait()
        if not os.environ.get("KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)
    return rows

def columns_rows(args, contacts):
    """Typed tables' cost: reads of the discovered catalog (full refresh) with the custom field
    columns off, on (the default), and on with a server that ignores include= on deals and
    accounts (their values joined): requests, CPU per record, peak RSS."""
    rows = []
    for label, choice, quirks in [("columns off", "none", []), ("columns on", "all", []),
                                  ("columns on, include ignored", "all", ["ignore-include=deals", "ignore-include=accounts"])]:
        workdir = tempfile.mkdtemp(prefix="ac-bench-columns-")
        log = os.path.join(workdir, "server.jsonl")
        key = "bench-key"
        server, base = start_server(args.server, log, contacts, 0, 0, key, [a for q in quirks for a in ("--quirk", q)])
        try:
            config = {"api_url": base, "api_key": key, "requests_per_second": 100, "custom_field_columns": choice}
            with open(os.path.join(workdir, "config.json"), "w") as f:
                json.dump(config, f)
            out = subprocess.run(["wasmtime", "run", "-S", "http", "--dir", f"{workdir}::/data", args.component,
                                  "discover", "--config", "/data/config.json"], capture_output=True, text=True, check=True)
            cat = next(json.loads(l)["catalog"] for l in out.stdout.splitlines() if '"type":"CATALOG"' in l)
            streams = [{"stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for s in cat["streams"]]
            with open(os.path.join(workdir, "catalog.json"), "w") as f:
                json.dump({"streams": streams}, f)
            columns = sum(1 for s in cat["streams"] for k in s["json_schema"].get("properties", {}) if k.startswith("custom_field_"))
            before = sum(1 for _ in open(log))
            out_path = os.path.join(workdir, "records.jsonl")
            cmd = ["wasmtime", "run", "-S", "http", "--dir", f"{workdir}::/data", args.component, "read",
                   "--config", "/data/config.json", "--catalog", "/data/catalog.json"]
            with open(out_path, "wb") as o, open(os.path.join(workdir, "read.log"), "wb") as e:
                proc = subprocess.Popen(cmd, stdout=o, stderr=e)
                _, status, usage = os.wait4(proc.pid, 0)
            records = sum(1 for l in open(out_path) if l.startswith('{"type":"RECORD"'))
            row = {"read": label, "contacts": contacts, "columns": columns, "requests": sum(1 for _ in open(log)) - before,
                   "records": records, "cpu_us_per_record": (usage.ru_utime + usage.ru_stime) * 1e6 / max(1, records),
                   "peak_rss_mb": usage.ru_maxrss / 1024, "exit": os.waitstatus_to_exitcode(status)}
            rows.append(row)
            print(f"  {label}, {contacts}: {row['columns']} columns, {row['requests']} requests, {records} records, "
                  f"{row['cpu_us_per_record']:.1f} µs CPU per record, {row['peak_rss_mb']:.1f} MB peak RSS, exit {row['exit']}", flush=True)
        finally:
            server.terminate(); server.wait()
            if not os.environ.get("KEEP"):
                shutil.rmtree(workdir, ignore_errors=True)
    return rows

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("component"); p.add_argument("server"); p.add_argument("out")
    p.add_argument("--contacts", type=int, default=int(os.environ.get("CONTACTS", 20000)))
    p.add_argument("--latencies", default=os.environ.get("LATENCIES", "300,1000"))
    p.add_argument("--rate", type=float, default=float(os.environ.get("RATE", 5)))
    p.add_argument("--big", type=int, default=int(os.environ.get("BIG_CONTACTS", 100000)),
                   help="contacts of the unthrottled, zero-latency account")
    p.add_argument("--small", type=int, default=int(os.environ.get("SMALL_CONTACTS", 4000)),
                   help="contacts of the smaller account of the 1,000 ms rows (0 = skip)")
    p.add_argument("--jitter", type=int, default=int(os.environ.get("JITTER_MS", 150)),
                   help="arrival jitter (ms) of the jitter rows (0 = skip)")
    p.add_argument("--wheel", default=os.environ.get("WHEEL", ""),
                   help="the wheel (make wheel): adds its read of the smaller account at 300 ms beside the CLI's")
    p.add_argument("--only", default=os.environ.get("ONLY", ""),
                   help="run only scenarios whose name contains one of these comma-separated words")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if shutil.which("wasmtime"):  # warm the CLI's compile cache (ONLY=wheel needs no CLI)
        subprocess.run(["wasmtime", "run", "-S", "http", args.component, "spec"], stdout=subprocess.DEVNULL, check=True)
    rps = math.floor(args.rate)
    plan = []
    for lat in [int(x) for x in args.latencies.split(",") if x]:
        plan.append((f"rate {args.rate:g}, {lat} ms", args.contacts, lat, rps, args.rate, True, 0))
    # The smaller account at 300 and 1,000 ms (start-up and tail weigh more), RateLimit headers off for
    # comparison, and arrival jitter (a new handshake per request shifts arrivals at the server).
    sizes = [args.contacts] + ([args.small] if args.small else [])
    if args.small:
        plan.append((f"rate {args.rate:g}, 300 ms", args.small, 300, rps, args.rate, True, 0))
        if args.wheel:
            plan.append((f"wheel: rate {args.rate:g}, 300 ms", args.small, 300, rps, args.rate, True, 0, False, "wheel"))
        plan.append((f"rate {args.rate:g}, 1000 ms", args.small, 1000, rps, args.rate, True, 0))
        plan.append((f"rate {args.rate:g}, 1000 ms, no RateLimit headers", args.small, 1000, rps, args.rate, False, 0))
    if args.jitter:
        for n in sizes:
            plan.append((f"rate {args.rate:g}, 1000 ms, jitter 0-{args.jitter} ms", n, 1000, rps, args.rate, True, args.jitter))
    plan.append(("unthrottled, 0 ms", args.big, 0, 0, 100, True, 0))
    # Deletions tracked (every stream's ids kept): the same requests as the row above,
    # memory flat in the account's size, and the largest STATE line.
    for n in [args.big // 10, args.big]:
        plan.append(("unthrottled, 0 ms, deletions tracked", n, 0, 0, 100, True, 0, True))
    only = [w.strip() for w in args.only.split(",") if w.strip()]
    rows = []
    exe, starts = None, None
    for (name, n, lat, srv_rps, conn_rps, headers, jitter, *more) in plan:
        if only and not any(w in f"{name} {n}" for w in only):
            continue
        tracked, wheel = (more + [False, None])[:2]
        if wheel and exe is None:
            exe, starts = wheel_program(args.wheel, args.out)
        rows.append(scenario(args, name, n, lat, srv_rps, conn_rps, headers, jitter, bool(tracked), exe if wheel else None))
    cols = [("scenario", "{}"), ("contacts", "{}"), ("requests", "{}"), ("fewest_requests", "{}"), ("requests_vs_fewest", "{:.3f}"), ("fewest_overlapping", "{}"),
            ("wall_s", "{:.1f}"), ("floor_s", "{:.1f}"), ("wall_vs_floor", "{:.3f}"), ("achieved_rps", "{:.2f}"),
            ("max_in_1s", "{}"), ("http_429", "{}"), ("http_429_per_1000", "{:.2f}"), ("records", "{}"), ("records_per_s", "{:.0f}"),
            ("cpu_us_per_record", "{:.1f}"), ("peak_rss_mb", "{:.1f}"), ("max_state_bytes", "{}"), ("exit", "{}")]
    lines = ["| " + " | ".join(c for c, _ in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(f.format(r[c]) for c, f in cols) + " |")
    table = "\n".join(lines)
    sweep = []
    for n in [args.contacts]:
        if not only or any(w in f"sweep {n}" for w in only):
            sweep += sweep_rows(args, n)
        # A server that ignores every orders[...]: the sync between sweeps must still cost no more
        # than the full read (the fallbacks read as the sweep does).
        if not only or any(w in f"sweep {n} orders ignored" for w in only):
            sweep += sweep_rows(args, n, ["ignore-order"], " (orders ignored)")
    if sweep:
        scols = ["sync", "contacts", "requests", "vs_full", "changes_delivered", "deletions_delivered", "exit"]
        fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)
        table += "\n\nSyncs between sweeps: full read, a day's changes, a sync inside full_sweep_hours, then one past it\n\n"
        table += "\n".join(["| " + " | ".join(scols) + " |", "|" + "---|" * len(scols)] +
                           ["| " + " | ".join(fmt(r[c]) for c in scols) + " |" for r in sweep])
    rows += sweep
    columns = []
    for n in sorted({args.small or args.contacts, args.contacts}):
        if not only or any(w in f"columns {n}" for w in only):
            columns += columns_rows(args, n)
    if columns:
        ccols = ["read", "contacts", "columns", "requests", "records", "cpu_us_per_record", "peak_rss_mb", "exit"]
        fmt = lambda v: f"{v:.1f}" if isinstance(v, float) else str(v)
        table += "\n\nTyped tables: the discovered catalog read with custom field columns off, on, and on with include= ignored on deals and accounts (unthrottled, 0 ms)\n\n"
        table += "\n".join(["| " + " | ".join(ccols) + " |", "|" + "---|" * len(ccols)] +
                           ["| " + " | ".join(fmt(r[c]) for c in ccols) + " |" for r in columns])
    rows += columns
    if starts:
        table += (f"\n\nThe wheel's start (`source-activecampaign spec`, wasmtime's Python package): "
                  f"{starts[0]:.2f} s the first time (compiles the component), {starts[1]:.2f} s with the compiled code cached.")
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    text = f"# make bench, {stamp}\n\n{table}\n\nfloor = fewest requests / rate; fewest = key check + custom object schemas + one request per 100 records of each list (contact children and /fields sideloads ride on their parent's pages); fewest_overlapping = the same with each offset page overlapping the one before by a record (the churn check), contacts keyset by id.\n"
    print("\n" + text)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(rows, f, indent=1)
    print(f"results written to {args.out}/results.md and results.json")
    if any(r["exit"] not in (0, "") for r in rows):
        sys.exit("a read failed")

if __name__ == "__main__":
    main()
