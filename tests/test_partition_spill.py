"""The spill pass is bounded by each point's own journey, not by the region (issue 17)."""

from __future__ import annotations

import numpy as np

from gis.coverage import coverage_of_region
from gis.partition import partitioned_coverage, plan_pieces, run_piece_file
from gis.partition_spill import spill_nodes
from gis.region import Region
from tests.test_partition import frames_equal, street_region

WALK_MS = 4.5 / 3.6


def long_street() -> Region:
    """A 20 km street (81 nodes, 250 m links), one outlet O at x = 0, on foot, 15-min circles.

    County A (x < 5 km) has resident a1 at 1 km; county B has b1 at 6.1 km, whose only outlet
    is 6 km + 100 m of access away: 4880 s = 81.33 min, outside its circle, and its county's
    piece (buffer 1.6 km) holds no outlet at all.
    """
    return street_region(81, {"O": 0.0}, [("a1", 1000.0, 10.0, "A"), ("b1", 6100.0, 20.0, "B")],
                         [("A", "A", "ca"), ("B", "B", "cb")])


def test_spill_region_by_hand():
    """b1 with bound 4880.3 s: the exact spill piece is nodes 0-25 (x ≤ 6.25 km) and O.

    By hand: keep u with |6.1 − u| − 0.5 + g(u) ≤ 4880.3 s × 1.25 m/s ≈ 6.1 km, g(u) = u (the
    only source node is node 0): every u ≤ 6.35 km, so nodes 0-25. The old pass took a disc
    of 6.1 + 0.5 = 6.6 km around 6.1 km (nodes 0-50).
    """
    reg = long_street()
    clip, parts = plan_pieces(reg, "county")
    rows = dict(parts)["cb"]
    nodes, o_in = spill_nodes(clip, rows, np.array([4880.3]), 250 / (250 / WALK_MS))
    assert list(nodes) == list(range(26))
    assert list(o_in) == [True]


def test_no_spill_task_takes_the_whole_street():
    """b1 finds no outlet in its piece: the buffer doubles (22, 41, 63 nodes), never all 81.

    By hand: 30 min → nodes within 2.75 km of 6.1 km (3.5-8.75 km: 22; no outlet within
    5 km); 60 min → 5 km (1.25-11 km: 40, plus O's forced node 0, but no road from 0 to
    1.25 km: no path); 120 min → 9.5 km (nodes 0-62: 81.33 min ≤ 120 min, certified). The
    old pass used the whole street (81 nodes) because b1 had found no outlet.
    """
    reg = long_street()
    seen: list = []

    def mapper(fn, paths):
        for p in paths:
            r = fn(p)
            seen.append((r.key, r.nodes))
            yield r

    res = partitioned_coverage(reg, "county", mapper=mapper, task=run_piece_file)
    frames_equal(res, coverage_of_region(reg))
    p = res.points.set_index("demand_id")
    assert p.loc["b1", "outlet_id"] == "O" and p.loc["b1", "minutes"] == 81.33
    assert seen == [("ca", 11), ("cb", 13), ("cb+grow", 22), ("cb+grow", 41), ("cb+grow", 63)]


def two_ends() -> Region:
    """A 10 km street (41 nodes, 250 m links), outlets O at 0 and O2 at 10 km, one county.

    Residents: a1 at 1 km and a4 at 9 km (covered; their buffers carry the piece to both
    ends), r1 at 2.35 km and r2 at 7.65 km (100 m from nodes 9 and 31: 1880 s = 31.33 min to
    O and to O2, outside their 15-minute walking circle).
    """
    return street_region(41, {"O": 0.0, "O2": 10000.0},
                         [("a1", 1000.0, 10.0, "A"), ("r1", 2350.0, 5.0, "A"),
                          ("r2", 7650.0, 5.0, "A"), ("a4", 9000.0, 10.0, "A")],
                         [("A", "A", "ca")])


def test_split_spill_piece_gives_the_same_minutes():
    """r1 and r2 spill from ca's piece (32 nodes); a cap of 16 nodes splits their exact piece.

    By hand (τ v ≈ p to the outlet, reach = τ v + 500 + 1 m): r1 keeps u ≤ 2.60 km (nodes
    0-10: 11), r2 u ≥ 7.40 km (nodes 30-40: 11); the middle fails both (g(u) is the distance
    to the nearer end). ca's piece is nodes 0-15 and 25-40 (1.625 km around each resident).
    Cap 2 × 32: one exact piece of 22 nodes; cap 0.5 × 32 = 16: halved (each half 11 ≤ 0.9 ×
    22), two pieces of 11. The minutes (31.33 to O and to O2) are the same both ways and
    equal the whole run.
    """
    reg = two_ends()
    whole = coverage_of_region(reg)
    runs = {}
    for cap in (2.0, 0.5):
        seen: list = []

        def mapper(fn, paths, seen=seen):
            for p in paths:
                r = fn(p)
                seen.append((r.key, r.nodes, len(r.rows)))
                yield r

        res = partitioned_coverage(reg, "county", mapper=mapper, spill_cap=cap)
        frames_equal(res, whole)
        runs[cap] = (res.points.set_index("demand_id"), seen)
    assert runs[2.0][1] == [("ca", 32, 2), ("ca+exact", 22, 2)]
    assert runs[0.5][1] == [("ca", 32, 2), ("ca+exact", 11, 1), ("ca+exact", 11, 1)]
    for cap in (2.0, 0.5):
        p = runs[cap][0]
        assert list(p.loc[["r1", "r2"], "minutes"]) == [31.33, 31.33]
        assert list(p.loc[["r1", "r2"], "outlet_id"]) == ["O", "O2"]
