#!/usr/bin/python3
"""The design pghealthd replaces, as a benchmark peer: asyncio, an aiopg
pool of 1 to 5 connections, every check at once with asyncio.gather(), each
non-empty result written as CSV with aiofiles (empty results skipped).

    bench/peer.py CHECKS_FILE OUTDIR

CHECKS_FILE holds one check a line, "name<TAB>sql".  The connection comes
from the PG* environment (PGHOST, PGPORT, PGUSER, PGDATABASE).  Exit 0 when
every check ran, 1 otherwise.  Debian: python3-aiopg, python3-aiofiles.
"""
import asyncio
import csv
import io
import os
import sys

import aiofiles
import aiopg


async def run_check(pool, name, sql, outdir):
    async with pool.acquire() as conn:
        async with conn.cursor() as cur:
            await cur.execute(sql)
            rows = await cur.fetchall()
            header = [d[0] for d in cur.description]
    if not rows:
        return
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    tmp = os.path.join(outdir, "." + name + ".csv.tmp")
    async with aiofiles.open(tmp, "w") as f:
        await f.write(buf.getvalue())
    os.replace(tmp, os.path.join(outdir, name + ".csv"))


async def main(checks_file, outdir):
    with open(checks_file) as f:
        checks = [line.rstrip("\n").split("\t", 1) for line in f if "\t" in line]
    dsn = "host={} port={} user={} dbname={}".format(
        os.environ.get("PGHOST", "localhost"), os.environ.get("PGPORT", "5432"),
        os.environ.get("PGUSER", "postgres"), os.environ.get("PGDATABASE", "postgres"))
    pool = await aiopg.create_pool(dsn, minsize=1, maxsize=5)
    try:
        results = await asyncio.gather(*(run_check(pool, n, q, outdir) for n, q in checks),
                                       return_exceptions=True)
    finally:
        pool.close()
        await pool.wait_closed()
    failed = [r for r in results if isinstance(r, Exception)]
    for r in failed[:3]:
        print("peer: check failed: {}".format(r), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
