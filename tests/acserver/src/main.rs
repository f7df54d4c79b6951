//! `ac-test-server`: serves a generated ActiveCampaign dataset until killed.

use ac_test_server::{Dataset, Server, ServerConfig};
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage: ac-test-server [options]
  --port N          port on 127.0.0.1 (0 = any free port; default 0)
  --seed N          dataset seed (default 42)
  --contacts N      number of contacts (default 1200)
  --api-key K       expected Api-Token (default test-key)
  --rps N           requests per second per account (0 = unlimited; default 5)
  --latency-ms N    sleep before each answer (default 0)
  --fault-rate F    probability 0..1 that an answer is a fault (default 0)
  --fault-seed N    seed of the fault choice (default 0)
  --log FILE        append one JSON line per request to FILE
  --new-york        stamp changed records in America/New_York time (daylight saving) instead of
                    the fixed UTC-05:00
  --no-rate-headers send no RateLimit-Limit / RateLimit-Remaining (the limit still holds)
  --arrival-jitter-ms N  wait a random 0..=N ms after accepting a connection before reading
                    its request, as a handshake would; the limit counts arrivals (default 0)
  --disable FEATURE answer 403 for a feature (accounts, deals, ecommerce, custom_objects,
                    a stream name or an API path); repeatable
  --quirk NAME      behave as the real API may (off by default; repeatable): total-zero,
                    total-half, total-double, ignore-order, ignore-id-less, empty-braces,
                    empty-body, empty-no-list, schemas-503, churn=N:stream,stream (after every
                    N API requests, each stream loses a record and gains one), object-lists
                    (lists as PHP objects), string-list=stream, deep-record=stream,
                    ignore-contacts-order, empty-stream=stream (its list answered `[]`,
                    total 0, on every page), ignore-include=stream (contacts, deals or
                    accounts answered as if no include= were given)
  --filters-in-account-zone  read date filter values in the account's zone, ignoring the zone
                    they name (a UTC value is 5 hours later on this -05:00 account)
  --link-origin URL serve record links under URL instead of https://acct.api-us1.com
  --accounts N      load tests: serve N accounts on the same data, account i with API key
                    KEY-i (KEY from --api-key, which is then no account's key), each its own
                    --rps window; log lines name the account (default: one account)
  --cache-answers   load tests: reuse the serialised answer to a GET of the same target (only
                    while no fault, failing path or quirk is on)
  --kernel-arrival  load tests: a request starts (rate limit, log) when the kernel received
                    it, not when a server thread read it (Linux; log lines add read_ms)
  --help            this text
Prints `listening on http://127.0.0.1:PORT` once bound, then serves until killed.";

/// Parsed command line.
struct Args {
    port: u16,
    seed: u64,
    contacts: usize,
    new_york: bool,
    /// `--accounts N` (0 = one account, the default).
    accounts: usize,
    config: ServerConfig,
}

fn value<'a>(it: &mut impl Iterator<Item = &'a String>, flag: &str) -> Result<&'a String, String> {
    it.next().ok_or_else(|| format!("{flag} needs a value"))
}

fn num<T: std::str::FromStr>(v: &str, flag: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("{flag}: {v:?} is not a valid number"))
}

fn parse(argv: &[String]) -> Result<Option<Args>, String> {
    let mut a = Args {
        port: 0,
        seed: 42,
        contacts: 1200,
        new_york: false,
        accounts: 0,
        config: ServerConfig::default(),
    };
    let mut it = argv.iter();
    while let Some(flag) = it.next() {
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (flag.as_str(), None),
        };
        let mut val = || -> Result<String, String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => value(&mut it, flag).cloned(),
            }
        };
        match flag {
            "--help" | "-h" => return Ok(None),
            "--port" => a.port = num(&val()?, flag)?,
            "--seed" => a.seed = num(&val()?, flag)?,
            "--contacts" => a.contacts = num(&val()?, flag)?,
            "--api-key" => a.config.api_key = val()?,
            "--rps" => {
                let n: u32 = num(&val()?, flag)?;
                a.config.rate_limit_per_sec = if n == 0 { None } else { Some(n) };
            }
            "--latency-ms" => a.config.latency_ms = num(&val()?, flag)?,
            "--fault-rate" => {
                let f: f64 = num(&val()?, flag)?;
                if !(0.0..=1.0).contains(&f) {
                    return Err(format!("--fault-rate: {f} is not between 0 and 1"));
                }
                a.config.fault_rate = f;
            }
            "--fault-seed" => a.config.fault_seed = num(&val()?, flag)?,
            "--log" => a.config.log_path = Some(val()?.into()),
            "--new-york" => a.new_york = true,
            "--no-rate-headers" => a.config.rate_limit_headers = false,
            "--arrival-jitter-ms" => a.config.arrival_jitter_ms = num(&val()?, flag)?,
            "--disable" => a.config.disabled_features.push(val()?),
            "--quirk" => a.config.quirks.set(&val()?)?,
            "--filters-in-account-zone" => a.config.filters_in_account_zone = true,
            "--link-origin" => a.config.link_origin = Some(val()?),
            "--accounts" => a.accounts = num(&val()?, flag)?,
            "--cache-answers" => a.config.cache_answers = true,
            "--kernel-arrival" => a.config.kernel_arrival = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if a.accounts > 0 {
        // After the loop: --api-key may come after --accounts.
        a.config.account_keys = ac_test_server::account_keys(&a.config.api_key, a.accounts);
    }
    Ok(Some(a))
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&argv) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("ac-test-server: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut dataset = Dataset::generate(args.seed, args.contacts);
    if args.new_york {
        dataset.set_zone(ac_test_server::Zone::NewYork);
    }
    let server = match Server::start_on(args.port, args.config, dataset) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "ac-test-server: cannot listen on 127.0.0.1:{}: {e}",
                args.port
            );
            return ExitCode::from(1);
        }
    };
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on {}", server.base_url());
    let _ = out.flush();
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_flags() {
        let a = parse(&args("--port 8080 --seed 7 --contacts=50 --api-key k --rps 0 --latency-ms 3 --fault-rate 0.5 --log /tmp/x --disable accounts --disable deals"));
        let Ok(Some(a)) = a else {
            panic!("parse failed")
        };
        assert_eq!((a.port, a.seed, a.contacts), (8080, 7, 50));
        assert_eq!(a.config.api_key, "k");
        assert_eq!(a.config.rate_limit_per_sec, None);
        assert_eq!(a.config.latency_ms, 3);
        assert_eq!(a.config.disabled_features, vec!["accounts", "deals"]);
        assert!(a.config.rate_limit_headers && a.config.arrival_jitter_ms == 0);
        let Ok(Some(a)) = parse(&args("--no-rate-headers --arrival-jitter-ms 150")) else {
            panic!("parse failed")
        };
        assert!(!a.config.rate_limit_headers);
        assert_eq!(a.config.arrival_jitter_ms, 150);
        assert!(a.config.account_keys.is_empty() && !a.config.cache_answers);
        assert!(!a.config.kernel_arrival);
        let Ok(Some(a)) = parse(&args(
            "--accounts 2 --cache-answers --kernel-arrival --api-key b",
        )) else {
            panic!("parse failed")
        };
        assert_eq!(a.config.account_keys, ["b-0", "b-1"]);
        assert!(a.config.cache_answers && a.config.kernel_arrival);
        assert!(matches!(parse(&args("--help")), Ok(None)));
        assert!(parse(&args("--port")).is_err());
        assert!(parse(&args("--port abc")).is_err());
        assert!(parse(&args("--fault-rate 2")).is_err());
        assert!(parse(&args("--bogus")).is_err());
        let Ok(Some(a)) = parse(&args(
            "--quirk empty-stream=tags --quirk=empty-stream=lists --quirk ignore-include=deals",
        )) else {
            panic!("parse failed")
        };
        assert_eq!(a.config.quirks.empty_streams, ["tags", "lists"]);
        assert_eq!(a.config.quirks.ignore_include, ["deals"]);
    }
}
