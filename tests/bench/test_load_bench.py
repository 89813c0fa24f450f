"""The load benchmark's soak judges each process on memory it owns, so a leak cannot hide."""

from bench.load import memory_rows, own_growth


def test_copy_on_write_and_shared_cache_are_not_growth_but_a_leak_is():
    # (resident MB, unique MB) after the warm-up and at the end
    assert own_growth((257, 26), (257, 32)) == 0  # forked child un-sharing pages
    assert own_growth((16, 1), (32, 1)) == 0  # a backend touching the shared buffer cache
    assert own_growth((300, 190), (330, 220)) == 30  # a leak raises both


def test_the_worst_process_of_a_kind_decides_not_the_mean():
    first = {
        1: ("gunicorn worker", 300.0, 190.0),
        2: ("gunicorn worker", 300.0, 190.0),
        3: ("celery worker", 257.0, 26.0),
        4: ("postgresql (each process)", 16.0, 1.0),
    }
    last = {
        1: ("gunicorn worker", 300.0, 190.0),
        2: ("gunicorn worker", 345.0, 235.0),  # one worker leaks 15 %
        3: ("celery worker", 257.0, 32.0),
        # process 4 ended during the soak: not compared
        5: ("postgresql (each process)", 16.0, 1.0),
    }
    rows = {line.split(" | ")[0].lstrip("| "): line for line in memory_rows(first, last)[2:]}
    assert rows["gunicorn worker"].endswith("+45.0 MB (+15.0 %) | NO |")
    assert rows["celery worker"].endswith("+0.0 MB (+0.0 %) | yes |")
    assert "(no process lived through the soak)" in rows["postgresql (each process)"]
