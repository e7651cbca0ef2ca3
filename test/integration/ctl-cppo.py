#!/usr/bin/env python3
"""cppo-notifyctl's CPPO commands end to end, on one store:

replay of the fixture events (test/fixtures, read twice) with --print and
the notifications they must give; a second replay prints nothing;
`authorization add --apply` then list and show (tables and --json); a partner
Offer Released nobody can link is held and `holds` shows it with the command
that releases it; `associate` queued in the inbox and applied by the next
replay gives the late partner_offer_extended; a hold timing out in event
time gives attention_needed, and `associate --apply` releases it; `holds`
lists only authorizations that could own the offer, and the command that
registers one when none fits; `associate` refuses a phantom offer and a
mismatch unless --force; a wrong link moves (link_corrected to both sides,
history with who and why) and `unlink` returns it to the holds; withdraw;
exit codes of the failure cases. With CPPO_TEST_STORE=pg (ctl-cppo-pg) on
PostgreSQL: the same commands, the same expected output.

Usage: ctl-cppo.py CPPO_NOTIFYCTL   (env: CPPO_FIXTURES). TAP."""
import datetime
import glob
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import events as ev  # noqa: E402  (the local `events` are lists)
import tap  # noqa: E402  (test/tools, beside this script's folder)
import teststore  # noqa: E402

CTL = sys.argv[1]

AUTH = "resaleauthz-h4k8q2w6z9m3p"
OFFER = "offer-t6n2w9q4k8x3v"
OFFER2 = "offer-r3m8v2k6q9w1z"
AGMT1 = "agmt-5q8w2k7z3m9x4v6b1n0c2r8t4"
AGMT2 = "agmt-8z2v6q1m4k9w3x7b5n0c6r2t1"
AGMT3 = "agmt-2c7r1t8y4u9i3o6p5a0s2d4f9"


def run(*args, stdin=None):
    # who a change is recorded under: $SUDO_USER when set
    env = dict(os.environ, SUDO_USER="alice-ops")
    p = subprocess.run([CTL] + list(args), capture_output=True, text=True, timeout=60,
                       input=stdin, env=env)
    return p.returncode, p.stdout, p.stderr


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def fixture_lines(directory):
    """Each fixture event as one JSON line: the Offer Released copies
    first, then by event time (envelopes, which have none, last): the order
    AWS would roughly deliver one deal's story in."""
    events = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(directory, "*.json")))]
    def order(e):
        released = e.get("detail-type") == "Offer Released"
        return (not released, e.get("time") or "9999")
    return [json.dumps(e, separators=(",", ":")) for e in sorted(events, key=order)]


CHANGE_SET_SUCCEEDED = ("Change Set Succeeded", "aws.marketplacecatalog")


def offer_released(offer, time, buyers):
    return json.dumps(ev.envelope(ev.RELEASED, ev.offer_released(
        "req-" + offer, offer, "CLI test offer " + offer, "prod-cli-1", "CLI Product",
        "444455556666", "Channel Partner Co", buyers, manufacturer_name="Acme"), "ev-" + offer, time))


def stamp(iso):
    return int(datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp())


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def replay_story(d, cfg):
    # The same events in two files: the second is all duplicates, as a
    # redelivered Kafka batch would be.
    shared = os.path.join(d, "first.jsonl")
    local = os.path.join(d, "again.jsonl")
    events = fixture_lines(os.path.join(os.environ["CPPO_FIXTURES"], "aws-events"))
    write(shared, events)
    write(local, events)
    rc, out, err = run("replay", "--config", cfg, "--print", shared, local)
    tap.ok("replay of the fixtures exits 0", rc == 0, err)
    notes = json_lines(out)
    got = {n["key"]: n for n in notes}
    want = {
        "partner_offer_extended/" + OFFER: "partner_offer_extended",
        "new_order/" + AGMT1: "new_order",
        "amended_offer/%s/2025-06-18T08:22:03Z" % AGMT1: "amended_offer",
        "amended_offer/" + AGMT2: "amended_offer",
        "new_order/" + AGMT3: "new_order",
        "order_ended/" + AGMT3: "order_ended",
    }
    tap.ok("replay prints exactly the story's notifications, once each",
           sorted(got) == sorted(want) and len(notes) == len(want), out)
    tap.ok("each has its kind, and a context object of the same kind and key",
           len(got) == len(want) and all(got[k]["kind"] == v and got[k]["context"]["kind"] == v and
              got[k]["context"]["key"] == k for k, v in want.items() if k in got), out)
    fields = ["kind", "key", "opportunity_id", "offer_id", "agreement_id", "late", "registered",
              "context"]
    tap.ok("each line has exactly the documented fields",
           notes and all(list(n) == fields for n in notes), out)
    tap.ok("every notification names the authorization, none registered",
           notes and all(n["opportunity_id"] == AUTH and n["registered"] is False
                        for n in notes), out)
    pox = got.get("partner_offer_extended/" + OFFER, {})
    tap.ok("the held offer is released late by the agreement (link event)",
           pox.get("late") is True and
           pox.get("context", {}).get("offer", {}).get("link") == "event", json.dumps(pox))
    renew = got.get("new_order/" + AGMT3, {}).get("context", {}).get("agreement", {})
    tap.ok("RENEW is a new_order with renewal and the previous agreement",
           renew.get("renewal") is True and renew.get("previous_agreement_id") == AGMT2,
           json.dumps(renew))
    tap.ok("REPLACED ends the old agreement without order_ended",
           "new_order/" + AGMT1 in got and "order_ended/" + AGMT1 not in got, out)
    tap.ok("summary counts messages, duplicates and notifications",
           "0 rejected, 6 notifications" in err and " 0 duplicates" not in err, err)
    rc, out, err = run("replay", "--config", cfg, "--print", shared, local)
    tap.ok("replaying the same files again prints nothing", rc == 0 and out == "" and
           " 0 events" in err and " 0 notifications" in err, out + err)


def authorization_add(cfg):
    rc, out, err = run("authorization", "add", "--config", cfg, "--id", "ra-cli-1",
                       "--name", "Contoso renewal", "--product-id", "prod-cli-1",
                       "--product-title", "CLI Product", "--reseller-account-id", "444455556666",
                       "--reseller-name", "Channel Partner Co", "--buyer-account-id",
                       "123456789012", "--buyer-account-id", "210987654321",
                       "--buyer-company", "Contoso Bank", "--expires-at", "2099-01-01T00:00:00Z",
                       "--notify", "ae@example.com", "--notify", "cs@example.com",
                       "--meta", "crm_id=OPP-4211", "--meta", "region=emea", "--apply")
    tap.ok("authorization add --apply exits 0 and applies one entry",
           rc == 0 and "applied 1 inbox entry: 0 notifications" in out, out + err)
    rc, out, err = run("authorization", "list", "--config", cfg)
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[1:-1] if line.strip()}
    tap.ok("authorization list shows both, registered or not",
           rc == 0 and rows == {"ra-cli-1": "registered", AUTH: "unregistered"} and
           out.splitlines()[-1] == "2 authorizations", out + err)
    rc, out, err = run("authorization", "list", "--config", cfg, "--json")
    items = {a["id"]: a for a in json_lines(out)}
    a = items.get("ra-cli-1", {})
    tap.ok("authorization list --json carries the record", rc == 0 and len(items) == 2 and
           a.get("buyer_account_ids") == ["123456789012", "210987654321"] and
           a.get("metadata") == {"crm_id": "OPP-4211", "region": "emea"} and
           a.get("state") == "registered" and items[AUTH]["offer_ids"] == [OFFER, OFFER2], out)
    rc, out, err = run("authorization", "show", "ra-cli-1", "--config", cfg)
    tap.ok("authorization show prints the record for people",
           rc == 0 and "buyer company:  Contoso Bank" in out and
           "notify:         ae@example.com, cs@example.com" in out and
           "(none linked yet)" in out and "agreements:\n  (none yet)" in out, out + err)
    rc, out, err = run("authorization", "show", AUTH, "--config", cfg, "--json")
    shown = json.loads(out) if rc == 0 else {"offers": [], "agreements": []}
    offers = {o["id"]: o for o in shown["offers"]}
    tap.ok("authorization show --json lists its offers with their links",
           offers.get(OFFER, {}).get("link") == "event" and offers[OFFER]["late"] is True and
           offers[OFFER]["released_seen"] is True and OFFER2 in offers, out + err)
    agreements = [(g["id"], g["status"], g["previous_agreement_id"])
                  for g in shown["agreements"]]
    tap.ok("and its agreements, oldest first, status only forward", agreements == [
        (AGMT1, "REPLACED", None), (AGMT2, "ACTIVE", None), (AGMT3, "EXPIRED", AGMT2)], out)
    rc, out, err = run("authorization", "show", AUTH, "--config", cfg)
    tap.ok("authorization show for people lists agreements",
           rc == 0 and "\nagreements:\n  %s" % AGMT1 in out and "previous " + AGMT2 in out, out)


def second_authorization(cfg):
    rc, out, err = run("authorization", "add", "--config", cfg, "--id", "ra-cli-2",
                       "--name", "Contoso expansion", "--product-id", "prod-cli-1",
                       "--reseller-account-id", "444455556666", "--buyer-account-id",
                       "123456789012", "--notify", "exp@example.com", "--apply")
    tap.ok("a second authorization for the same product, partner and buyer", rc == 0, out + err)


def hold_and_associate(d, cfg):
    held = os.path.join(d, "held.jsonl")
    # two authorizations fit: no inference, the offer waits
    second_authorization(cfg)
    write(held, [offer_released("offer-cli-held", "2025-10-01T00:00:00Z", ["123456789012"])])
    rc, out, err = run("replay", "--config", cfg, "--print", held)
    tap.ok("an Offer Released with no link notifies nothing", rc == 0 and out == "", out + err)
    rc, out, err = run("holds", "--config", cfg)
    cmd = "cppo-notifyctl associate --offer offer-cli-held --authorization ID --config " + cfg
    exact = cmd.replace(" ID ", " ra-cli-1 ")
    tap.ok("holds lists it, waiting, each candidate with buyers, expiry and its command",
           rc == 0 and "offer-cli-held" in out and "waiting" in out and
           "    candidate ra-cli-1 (Contoso renewal), buyers 123456789012 210987654321, "
           "expires 2099-01-01T00:00:00Z\n      release: " + exact + "\n" in out and
           "    candidate ra-cli-2 (Contoso expansion), buyers 123456789012, expires never\n"
           in out and AUTH not in out and
           "partner 444455556666 (Channel Partner Co), product prod-cli-1, buyers 123456789012"
           in out and out.splitlines()[-1] == "1 held offer", out + err)
    rc, out, err = run("holds", "--config", cfg, "--json")
    h = json_lines(out)
    tap.ok("holds --json: deadline 72 h after the event, no attention yet",
           rc == 0 and len(h) == 1 and h[0]["offer_id"] == "offer-cli-held" and
           h[0]["deadline"] == "2025-10-04T00:00:00Z" and h[0]["attention_sent"] is False and
           h[0]["command"] == cmd and sorted(h[0]["candidates"]) == ["ra-cli-1", "ra-cli-2"] and
           {c["id"]: c["expires_at"] for c in h[0]["candidate_details"]} ==
           {"ra-cli-1": "2099-01-01T00:00:00Z", "ra-cli-2": None} and
           h[0]["register_command"] is None and
           h[0]["product_id"] == "prod-cli-1" and h[0]["partner_account_id"] == "444455556666",
           out + err)
    rc, out, err = run("associate", "--offer", "offer-cli-held", "--authorization", "ra-cli-1",
                       "--config", cfg)
    tap.ok("associate queues the link in the inbox", rc == 0 and "queued as inbox entry" in out,
           out + err)
    rc, out, err = run("holds", "--config", cfg, "--json")
    tap.ok("the hold stays until the inbox is applied", len(json_lines(out)) == 1, out)
    rc, out, err = run("replay", "--config", cfg, "--print", "-", stdin="")
    notes = json_lines(out)
    n = notes[0] if len(notes) == 1 else {}
    tap.ok("the next replay applies the inbox: a late partner_offer_extended",
           rc == 0 and n.get("key") == "partner_offer_extended/offer-cli-held" and
           n.get("late") is True and n.get("registered") is True and
           n.get("opportunity_id") == "ra-cli-1" and
           n["context"]["offer"]["link"] == "manual", out + err)
    rc, out, err = run("holds", "--config", cfg)
    tap.ok("the hold is gone", rc == 0 and out.strip() == "0 held offers", out)


def hold_timeout_and_apply(d, cfg):
    later = os.path.join(d, "timeout.jsonl")
    write(later, [offer_released("offer-cli-late", "2025-11-01T00:00:00Z", ["123456789012"]),
                  json.dumps(ev.envelope(CHANGE_SET_SUCCEEDED, {"requestId": "req-cs-late"},
                                         "ev-cs-late", "2025-11-05T00:00:00Z"))])
    rc, out, err = run("replay", "--config", cfg, "--print", "--commit-every", "1", later)
    notes = json_lines(out)
    tap.ok("event time past the deadline gives attention_needed, once",
           rc == 0 and [x["key"] for x in notes] == ["attention_needed/offer-cli-late"] and
           "associate --offer offer-cli-late" in (notes[0]["context"]["reason"] or ""), out + err)
    rc, out, err = run("holds", "--config", cfg, "--json")
    h = json_lines(out)
    tap.ok("holds shows that attention was sent", len(h) == 1 and h[0]["attention_sent"] is True,
           out)
    rc, out, err = run("associate", "--offer", "offer-cli-late", "--authorization", "ra-cli-1",
                       "--config", cfg, "--apply", "--json")
    notes = json_lines(out)
    tap.ok("associate --apply releases it at once, late",
           rc == 0 and [x["key"] for x in notes] == ["partner_offer_extended/offer-cli-late"] and
           notes[0]["late"] is True, out + err)


def correct_links(d, cfg):
    """Item 2 of issue 11: only legal candidates, refusals, moves, unlink."""
    rc, out, err = run("associate", "--offer", "offer-cli-typo", "--authorization", "ra-cli-1",
                       "--config", cfg)
    tap.ok("associate refuses an offer the store never saw, in one line, exit 1",
           rc == 1 and out == "" and err.count("\n") == 1 and
           "no offer 'offer-cli-typo' in the store" in err and "--force" in err, out + err)
    nofit = os.path.join(d, "nofit.jsonl")
    write(nofit, [offer_released("offer-cli-nofit", "2025-11-10T00:00:00Z", ["999988887777"])])
    rc, out, err = run("replay", "--config", cfg, "--print", nofit)
    rc, out, err = run("holds", "--config", cfg)
    register = ("cppo-notifyctl authorization add --id ID --product-id prod-cli-1 "
                "--reseller-account-id 444455556666 --buyer-account-id 999988887777 --config "
                + cfg)
    block = out[out.find("offer-cli-nofit"):]
    tap.ok("holds: no candidate fits (buyers), so it says so and how to register one",
           rc == 0 and "candidate " not in block and
           "no known authorization fits this offer" in block and register in block, out + err)
    rc, out, err = run("holds", "--config", cfg, "--json")
    h = {x["offer_id"]: x for x in json_lines(out)}.get("offer-cli-nofit", {})
    tap.ok("holds --json: no candidates, the register command",
           h.get("candidates") == [] and h.get("register_command") == register, out)
    rc, out, err = run("associate", "--offer", "offer-cli-nofit", "--authorization", "ra-cli-1",
                       "--config", cfg)
    tap.ok("associate refuses a buyers mismatch, naming it, exit 1",
           rc == 1 and err.count("\n") == 1 and "buyers differ" in err and
           "999988887777" in err, err)
    rc, out, err = run("associate", "--offer", "offer-cli-nofit", "--authorization", "ra-cli-1",
                       "--config", cfg, "--force", "--apply", "--json")
    notes = json_lines(out)
    tap.ok("--force links it anyway", rc == 0 and [n["key"] for n in notes] ==
           ["partner_offer_extended/offer-cli-nofit"], out + err)
    rc, out, err = run("unlink", "--offer", OFFER, "--config", cfg)
    tap.ok("unlink refuses a link an agreement event made, exit 1",
           rc == 1 and "by an agreement event" in err and "--force" in err, err)
    rc, out, err = run("associate", "--offer", "offer-cli-held", "--authorization", "ra-cli-2",
                       "--config", cfg, "--reason", "partner named the expansion deal",
                       "--apply", "--json")
    notes = json_lines(out)
    n = notes[0] if len(notes) == 1 else {"context": {}}
    ctx = n["context"]
    tap.ok("associate onto another authorization moves the link: one link_corrected",
           rc == 0 and n.get("key") == "link_corrected/offer-cli-held/1" and
           n.get("opportunity_id") == "ra-cli-2" and
           ctx.get("previous_opportunity", {}).get("id") == "ra-cli-1" and
           ctx.get("correction", {}).get("actor") == "alice-ops" and
           ctx.get("correction", {}).get("reason") == "partner named the expansion deal", out + err)
    tap.ok("its contacts are both authorizations' (include_authorization_contacts)",
           sorted(ctx.get("opportunity", {}).get("notify", [])) ==
           ["ae@example.com", "cs@example.com", "exp@example.com"] and
           [o["id"] for o in ctx.get("opportunities", [])] == ["ra-cli-1", "ra-cli-2"], out)
    rc, out, err = run("unlink", "--offer", "offer-cli-held", "--config", cfg, "--reason",
                       "not sure yet", "--apply", "--json")
    notes = json_lines(out)
    tap.ok("unlink tells ra-cli-2's side with a second correction",
           rc == 0 and [x["key"] for x in notes] == ["link_corrected/offer-cli-held/2"], out + err)
    rc, out, err = run("holds", "--config", cfg, "--json")
    h = {x["offer_id"]: x for x in json_lines(out)}.get("offer-cli-held", {})
    tap.ok("and the offer is back in the holds with its candidates",
           sorted(h.get("candidates", [])) == ["ra-cli-1", "ra-cli-2"], out)
    rc, out, err = run("links", "--offer", "offer-cli-held", "--config", cfg, "--json")
    rows = json_lines(out)
    moves = [(r["from_authorization_id"], r["to_authorization_id"], r["to_link"], r["actor"],
              r["reason"], r["correction_key"]) for r in rows]
    tap.ok("links: the history with who, when and why", rc == 0 and moves == [
        (None, "ra-cli-1", "manual", "alice-ops", None, None),
        ("ra-cli-1", "ra-cli-2", "manual", "alice-ops", "partner named the expansion deal",
         "link_corrected/offer-cli-held/1"),
        ("ra-cli-2", None, "none", "alice-ops", "not sure yet",
         "link_corrected/offer-cli-held/2")] and all(r["at"].endswith("Z") for r in rows),
        out + err)
    rc, out, err = run("links", "--offer", "offer-cli-held", "--config", cfg)
    tap.ok("links for people", rc == 0 and "ra-cli-1 (manual) -> ra-cli-2 (manual)  by "
           "alice-ops: partner named the expansion deal" in out and
           "told both sides: link_corrected/offer-cli-held/1" in out, out + err)


def withdraw(cfg):
    rc, out, err = run("authorization", "withdraw", "ra-cli-1", "--config", cfg, "--apply")
    rc2, out2, _ = run("authorization", "show", "ra-cli-1", "--config", cfg, "--json")
    tap.ok("withdraw --apply marks it withdrawn",
           rc == 0 and rc2 == 0 and json.loads(out2)["state"] == "withdrawn", out + err + out2)


def config_flags(d, stores):
    """The correlation flags come from --config: the fixtures in name order
    (agreements before the Offer Released) give a partner_offer_extended only
    with notify_extended_after_acceptance; holds use offer_link_timeout."""
    names = os.path.join(d, "by-name.jsonl")
    events = sorted(glob.glob(os.path.join(os.environ["CPPO_FIXTURES"], "aws-events/*.json")))
    write(names, [json.dumps(json.load(open(f)), separators=(",", ":")) for f in events] +
          [offer_released("offer-cli-flags", "2025-12-01T00:00:00Z", ["999988887777"])])
    keys = {}
    for flag in ("false", "true"):
        cfg = os.path.join(d, "flags-%s.yaml" % flag)
        with open(cfg, "w") as f:
            f.write("kafka:\n  brokers: 127.0.0.1:9\n  topics: [t]\n"
                    + stores.yaml(stores.new(f"{d}/flags-{flag}.db")) +
                    f"receivers:\n  audit:\n    type: file\n    path: {d}/n.jsonl\n"
                    f"holds:\n  offer_link_timeout: 1h\n"
                    f"notify_extended_after_acceptance: {flag}\n")
        rc, out, err = run("replay", "--config", cfg, "--print", names)
        keys[flag] = {n["key"]: n for n in json_lines(out)} if rc == 0 else {}
        rc, out, err = run("holds", "--config", cfg, "--json")
        h = json_lines(out)
        tap.ok("offer_link_timeout from the config sets the deadline (%s)" % flag,
               len(h) == 1 and stamp(h[0]["deadline"]) - stamp(h[0]["created_at"]) == 3600,
               out + err)
    pox = "partner_offer_extended/" + OFFER
    tap.ok("accepted before released: linked silently by default",
           "new_order/" + AGMT1 in keys["false"] and pox not in keys["false"], str(keys["false"]))
    tap.ok("notify_extended_after_acceptance from the config tells it, late",
           keys["true"].get(pox, {}).get("late") is True, str(keys["true"].keys()))


def failures(d, cfg, db):
    rc, _, err = run("associate", "--offer", "o-1", "--authorization", "ra-typo", "--config", cfg)
    tap.ok("associate with an unknown authorization exits 1", rc == 1 and "ra-typo" in err, err)
    rc, _, err = run("authorization", "show", "nope", "--config", cfg)
    tap.ok("show of an unknown authorization exits 1", rc == 1 and "no authorization 'nope'" in err,
           err)
    rc, _, err = run("authorization", "add", "--config", cfg, "--id", "x",
                     "--buyer-account-id", "12")
    tap.ok("an invalid account id is a usage error", rc == 2 and "12 digits" in err, err)
    rc, _, err = run("authorization", "add", "--config", cfg, "--id", "x", "--notify", "no-at")
    tap.ok("an invalid address is a usage error", rc == 2 and "--notify" in err, err)
    p = subprocess.run([CTL, "authorization", "add", "--config", cfg, "--id", "x", "--name",
                        b"bad \xff\x1b[31m"], capture_output=True, timeout=60)
    tap.ok("invalid UTF-8 or control bytes are refused, and not echoed",
           p.returncode == 2 and b"\xff" not in p.stderr and b"\x1b" not in p.stderr, str(p))
    pending = teststore.Stores.sql(db, "SELECT COUNT(*) FROM inbox WHERE consumed_at IS NULL")[0][0]
    total = teststore.Stores.sql(db, "SELECT COUNT(*) FROM inbox")[0][0]
    # add twice, associate, associate --apply, associate --force, the move, unlink, withdraw
    tap.ok("refused commands queued nothing; every accepted one was consumed",
           pending == 0 and total == 8, "pending %d, total %d" % (pending, total))
    rc, _, err = run("replay", "--print", os.path.join(d, "held.jsonl"))
    tap.ok("replay without --config or --state is a usage error", rc == 2, err)
    rc, _, err = run("replay", "--config", cfg, os.path.join(d, "missing.jsonl"))
    tap.ok("replay of a missing file exits 1", rc == 1 and "missing.jsonl" in err, err)
    rc, _, err = run("holds", "--state", os.path.join(d, "absent", "state.db"))
    tap.ok("a store that cannot be opened exits 3", rc == 3, err)


def main():
    with tempfile.TemporaryDirectory() as d, teststore.Stores() as stores:
        db = stores.new(f"{d}/state.db")
        cfg = os.path.join(d, "cppo-notify.yaml")
        with open(cfg, "w") as f:
            f.write("kafka:\n  brokers: 127.0.0.1:9\n  topics: [t]\n" + stores.yaml(db) +
                    f"receivers:\n  audit:\n    type: file\n    path: {d}/notes.jsonl\n")
        replay_story(d, cfg)
        authorization_add(cfg)
        hold_and_associate(d, cfg)
        hold_timeout_and_apply(d, cfg)
        correct_links(d, cfg)
        withdraw(cfg)
        config_flags(d, stores)
        failures(d, cfg, db)
        kind = "PostgreSQL" if teststore.PG else "SQLite"
        tap.ok("the store is the one CPPO_TEST_STORE asks for (%s)" % kind, stores.backend_ok(db), db)
    return tap.done()


sys.exit(main())
