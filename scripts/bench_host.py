#!/usr/bin/env python3
"""make bench-host: many accounts at once through ac-host, each against its own test server.

For 1, 8 and 50 accounts (ACCOUNTS=1,8,50), every account has its own API key, 5 requests/second
limit, LATENCY=300 ms and CONTACTS contacts, and `ac-host run` reads them all in one process. By
default one ac-test-server process serves every account (`--accounts N`, one rate window and one
arrival count per key) and reuses the serialised answer to a repeated GET (`--cache-answers`), so
the test server takes little of the CPU the host shares with it, and counts a request when the
kernel received it (`--kernel-arrival`; the server thread's read time, late by however long it
waited for the CPU, is printed beside it). SERVERS=each starts one plain server process per
account instead (each building every answer itself, counting at its read time), as before. Prints per account wall ÷ floor and the most requests begun in one second
(from each server's log), and overall requests/s, host peak RSS, linear memory per instance,
instantiation time and host CPU per record.
"""
import argparse, shutil, json, math, os, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import fewest_requests, max_in_window  # one definition of the floor and the window count

def start_server(binary, log, contacts, rps, latency, key, seed, extra=()):
    ready = tempfile.NamedTemporaryFile(delete=False)
    proc = subprocess.Popen([binary, "--port", "0", "--log", log, "--contacts", str(contacts), "--rps", str(rps),
                             "--latency-ms", str(latency), "--api-key", key, "--seed", str(seed), *extra],
                            stdout=ready, stderr=subprocess.DEVNULL)
    return proc, ready.name

def wait_ready(proc, ready):
    for _ in range(1200):
        with open(ready) as f:
            line = f.read()
        if "listening on" in line:
            return line.split("listening on", 1)[1].strip()
        if proc.poll() is not None:
            sys.exit("test server did not start")
        time.sleep(0.05)
    sys.exit("test server did not start in time")

def scenario(args, n):
    work = tempfile.mkdtemp(prefix=f"ac-bench-host-{n}-")
    load_before = os.getloadavg()[0]
    key = "bench-key"
    servers = []
    one = args.servers == "one"
    try:
        for i in range(1 if one else n):
            log = os.path.join(work, f"server-{i}.jsonl")
            extra = ["--accounts", str(n), "--cache-answers", "--kernel-arrival"] if one else []
            proc, ready = start_server(args.server, log, args.contacts, args.rate, args.latency, key, 42, extra)
            servers.append((proc, ready, log))
        bases = [wait_ready(proc, ready) for proc, ready, _ in servers]
        accounts = []
        for i in range(n):
            # One server: account i is key KEY-i there; else account i is server i.
            base, akey = (bases[0], f"{key}-{i}") if one else (bases[i], key)
            accounts.append({"name": f"acct{i:02d}", "config": {"api_url": base, "api_key": akey,
                                                               "requests_per_second": args.rate}})
        with open(os.path.join(work, "accounts.json"), "w") as f:
            json.dump(accounts, f)
        cmd = [args.host, "run", "--connector", args.connector, "--component", args.component,
               "--accounts", os.path.join(work, "accounts.json"), "--out", os.path.join(work, "out")]
        if args.pooling:
            cmd.append("--pooling")
        t0 = time.monotonic()
        with open(os.path.join(work, "host.out"), "wb") as out, open(os.path.join(work, "host.err"), "wb") as err:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
        process_wall = time.monotonic() - t0
    finally:
        for proc, _, _ in servers:
            proc.terminate()
        server_cpu = 0.0
        for proc, _, _ in servers:
            _, _, su = os.wait4(proc.pid, 0)
            server_cpu += su.ru_utime + su.ru_stime
    lines = [json.loads(l) for l in open(os.path.join(work, "host.out")) if l.startswith("{")]
    reports = {l["account"]: l for l in lines if "account" in l}
    summary = next(l["summary"] for l in lines if "summary" in l)
    per = []
    logged = [[json.loads(l) for l in open(log)] for _, _, log in servers]
    for i in range(n):
        name = f"acct{i:02d}"
        reqs = [q for q in logged[0] if q.get("account") == i] if one else logged[i]
        starts = [q["start_ms"] for q in reqs]
        reads = [q.get("read_ms", q["start_ms"]) for q in reqs]
        r = reports[name]
        records = {s["name"]: s["records"] for s in r.get("streams", [])}
        floor = fewest_requests(records) / args.rate
        per.append({"account": name, "ok": r["ok"], "requests": len(reqs), "wall_s": r["wall_ms"] / 1000,
                    "floor_s": floor, "wall_vs_floor": r["wall_ms"] / 1000 / floor, "max_in_1s": max_in_window(starts),
                    "max_in_1s_read": max_in_window(reads),
                    "http_429": sum(1 for q in reqs if q["status"] == 429), "records": r["records"],
                    "instantiate_ms": r["instantiate_ms"], "memory_mb": r["peak_memory_bytes"] / 2**20,
                    "headers_ms_mean": r["headers_ms_mean"], "headers_ms_max": r["headers_ms_max"]})
    total_requests = sum(p["requests"] for p in per)
    row = {
        "accounts": n, "ok": all(p["ok"] for p in per) and os.waitstatus_to_exitcode(status) == 0,
        "requests": total_requests, "wall_s": summary["wall_s"], "process_wall_s": process_wall,
        "requests_per_s": total_requests / summary["wall_s"], "target_rps": 0.9 * args.rate * n,
        "wall_vs_floor_max": max(p["wall_vs_floor"] for p in per),
        "wall_vs_floor_mean": sum(p["wall_vs_floor"] for p in per) / n,
        "max_in_1s_max": max(p["max_in_1s"] for p in per),
        "accounts_over_rate": sum(1 for p in per if p["max_in_1s"] > args.rate),
        "max_in_1s_read_max": max(p["max_in_1s_read"] for p in per),
        "accounts_over_rate_read": sum(1 for p in per if p["max_in_1s_read"] > args.rate),
        "http_429": sum(p["http_429"] for p in per),
        "records": summary["records"], "peak_rss_mb": usage.ru_maxrss / 1024,
        "instance_memory_mb_max": max(p["memory_mb"] for p in per),
        "instantiate_ms_mean": summary["instantiate_ms_mean"], "instantiate_ms_max": summary["instantiate_ms_max"],
        "compile_ms": summary["compile_ms"],
        "cpu_us_per_record": (usage.ru_utime + usage.ru_stime) * 1e6 / max(1, summary["records"]),
        "host_cpu_s": usage.ru_utime + usage.ru_stime, "servers_cpu_s": server_cpu,
        "load_before": load_before, "load_after": os.getloadavg()[0],
        "headers_ms_mean": sum(p["headers_ms_mean"] for p in per) / n,
        "headers_ms_max": max(p["headers_ms_max"] for p in per),
        "per_account": per,
    }
    print(f"  {n} accounts: {total_requests} requests in {row['wall_s']:.1f} s = {row['requests_per_s']:.1f} req/s "
          f"(target {row['target_rps']:.1f}), wall/floor max {row['wall_vs_floor_max']:.3f}, "
          f"most begun in 1 s {row['max_in_1s_max']} ({row['accounts_over_rate']} accounts over; by the server's read "
          f"time {row['max_in_1s_read_max']}, {row['accounts_over_rate_read']} over), ok {row['ok']}; CPU s: ac-host {row['host_cpu_s']:.1f}, "
          f"test servers {row['servers_cpu_s']:.1f}; load average before {load_before:.1f}, after {row['load_after']:.1f}; "
          f"response headers after {row['headers_ms_mean']:.0f} ms mean, {row['headers_ms_max']:.0f} ms max", flush=True)
    for p in per:
        print(f"    {p['account']}: {p['requests']} requests, wall {p['wall_s']:.1f} s / floor {p['floor_s']:.1f} s = "
              f"{p['wall_vs_floor']:.3f}, most begun in 1 s {p['max_in_1s']}, 429s {p['http_429']}, "
              f"{p['records']} records, instance {p['memory_mb']:.1f} MB", flush=True)
    if not os.environ.get("KEEP"):  # 50 accounts' records take ~800 MB; KEEP=1 keeps them
        shutil.rmtree(work, ignore_errors=True)
    return row

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("host"); p.add_argument("component"); p.add_argument("server"); p.add_argument("out")
    p.add_argument("--connector", default="connector.json")
    p.add_argument("--accounts", default=os.environ.get("ACCOUNTS", "1,8,50"))
    p.add_argument("--contacts", type=int, default=int(os.environ.get("CONTACTS", 3000)))
    p.add_argument("--latency", type=int, default=int(os.environ.get("LATENCY", 300)))
    p.add_argument("--rate", type=int, default=int(os.environ.get("RATE", 5)))
    p.add_argument("--pooling", action="store_true", default=os.environ.get("POOLING", "") == "1")
    p.add_argument("--servers", choices=["one", "each"], default=os.environ.get("SERVERS", "one"),
                   help="one test-server process for all accounts (default) or one per account")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rows = [scenario(args, int(n)) for n in args.accounts.split(",") if n]
    cols = [("accounts", "{}"), ("requests", "{}"), ("wall_s", "{:.1f}"), ("requests_per_s", "{:.1f}"),
            ("target_rps", "{:.1f}"), ("wall_vs_floor_mean", "{:.3f}"), ("wall_vs_floor_max", "{:.3f}"),
            ("max_in_1s_max", "{}"), ("accounts_over_rate", "{}"), ("max_in_1s_read_max", "{}"), ("http_429", "{}"), ("records", "{}"),
            ("peak_rss_mb", "{:.1f}"), ("instance_memory_mb_max", "{:.2f}"), ("instantiate_ms_mean", "{:.2f}"),
            ("compile_ms", "{:.0f}"), ("cpu_us_per_record", "{:.1f}"), ("ok", "{}")]
    lines = ["| " + " | ".join(c for c, _ in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(f.format(r[c]) for c, f in cols) + " |")
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    text = (f"# make bench-host, {stamp}\n\n{args.contacts} contacts per account, {args.latency} ms latency, "
            f"{args.rate} requests/s per account{', pooling allocator' if args.pooling else ''}, "
            f"{'one test server for all accounts' if args.servers == 'one' else 'one test server per account'}\n\n" + "\n".join(lines) + "\n")
    print("\n" + text)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(rows, f, indent=1)
    print(f"results written to {args.out}/results.md and results.json")
    if not all(r["ok"] for r in rows):
        sys.exit("an account failed")

if __name__ == "__main__":
    main()
