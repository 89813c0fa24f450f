"""The load benchmark's soak judges each process on memory it owns, so a leak cannot hide."""

from bench.load import memory_rows, own_growth


def test_copy_on_write_and_shared_cache_are_not_growth_but_a_leak_is():
    # (resident MB, unique MB) after the warm-up and at the end
    assert own_growth((257, 26), (257, 32)) == 0  # forked child un-sharing pages
    assert own_growth((16, 1), (32, 1)) == 0  # a backend touching the shared buffer cache
    assert own_growth((300, 190), (330, 220)) == 30  # a leak raises both


def test_the_worst_process_of_a_kind_decides_not_the_mean():
    first = {
        (1, 0.0): ("gunicorn worker", 300.0, 190.0),
        (2, 0.0): ("gunicorn worker", 300.0, 190.0),
        (3, 0.0): ("celery worker", 257.0, 26.0),
        (4, 0.0): ("postgresql (each process)", 16.0, 1.0),
    }
    last = {
        (1, 0.0): ("gunicorn worker", 300.0, 190.0),
        (2, 0.0): ("gunicorn worker", 345.0, 235.0),  # one worker leaks 15 %
        (3, 0.0): ("celery worker", 257.0, 32.0),
        # backend 4 ended during the soak (its connection closed): not compared
        (5, 9.0): ("postgresql (each process)", 16.0, 1.0),
    }
    rows = {line.split(" | ")[0].lstrip("| "): line for line in memory_rows(first, last)[2:]}
    assert rows["gunicorn worker"].endswith("+45.0 MB (+15.0 %) | NO |")
    assert rows["celery worker"].endswith("+0.0 MB (+0.0 %) | yes |")
    assert "(no process lived through the soak)" in rows["postgresql (each process)"]


def test_a_worker_replaced_during_the_soak_fails_its_row():
    first = {(7, 1.0): ("gunicorn worker", 300.0, 190.0), (8, 1.0): ("gunicorn worker", 300.0, 190)}
    # worker 8 died (say, killed for its memory) and a fresh one took its place
    last = {(7, 1.0): ("gunicorn worker", 300.0, 190.0), (9, 5.0): ("gunicorn worker", 150, 40)}
    (row,) = memory_rows(first, last)[2:]
    assert "1 process(es) replaced during the soak | NO |" in row
