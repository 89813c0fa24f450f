#!/usr/bin/env bash
# `make prod` / `make prod-stop`: the production topology on one machine, everything under
# $ANAGEN_PROD_DIR (default var/prod): PostgreSQL (own cluster, port and socket directory), Redis,
# a Celery worker and beat, gunicorn serving the app and its static files (WhiteNoise).
# Both commands are idempotent: what already runs is left running, what is stopped stays stopped.
# docs/operations.md describes it, and the same services spread over several machines.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
BIN=$(dirname "$PY")
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DIR=$(realpath -m "${ANAGEN_PROD_DIR:-$ROOT/var/prod}")
PG_PORT=${ANAGEN_PROD_PG_PORT:-5544}
REDIS_PORT=${ANAGEN_PROD_REDIS_PORT:-6391}
WEB_PORT=${ANAGEN_PROD_WEB_PORT:-8100}
WEB_WORKERS=${ANAGEN_PROD_WEB_WORKERS:-3}
JOB_WORKERS=${ANAGEN_PROD_JOB_WORKERS:-1}
RUN=$DIR/run
LOG=$DIR/log
say() { echo "prod: $*"; }
die() { echo "prod: $*" >&2; exit 1; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# A detached Celery process writes its pid file a moment after the command returns; wait for it,
# so that an immediate second start sees the process instead of starting a twin.
await_pid() {  # name pidfile logfile
  for _ in $(seq 1 120); do alive "$2" && return; sleep 0.25; done
  die "$1 did not start within 30 s: $3"
}

# PostgreSQL refuses to run as root. As root, the cluster belongs to an unprivileged system user
# (ANAGEN_PROD_PG_USER, default postgres, which Debian's postgresql package creates); otherwise
# it runs as the current user.
PG_USER=$(id -un)
as_pg() { "$@"; }
if [ "$(id -u)" = 0 ]; then
  PG_USER=${ANAGEN_PROD_PG_USER:-postgres}
  id "$PG_USER" >/dev/null 2>&1 || die "running as root: PostgreSQL needs an unprivileged user; create '$PG_USER' (apt-get install postgresql does) or set ANAGEN_PROD_PG_USER"
  as_pg() { runuser -u "$PG_USER" -- "$@"; }
fi

# The cluster lives in $DIR/pg. When that user cannot reach it (a checkout under /root, say),
# the data go to /var/tmp and $DIR/pg is a link to them.
pg_home() {
  if [ -e "$DIR/pg" ]; then return; fi
  mkdir -p "$DIR/pg.probe"; chown "$PG_USER" "$DIR/pg.probe"
  if as_pg test -w "$DIR/pg.probe"; then
    rmdir "$DIR/pg.probe"; mkdir -p "$DIR/pg"
  else
    rmdir "$DIR/pg.probe"
    local away
    away=/var/tmp/anagen-prod-$(echo -n "$DIR" | sha1sum | cut -c1-12)
    mkdir -p "$away"; ln -s "$away" "$DIR/pg"
    say "PostgreSQL data in $away ($PG_USER cannot reach $DIR)"
  fi
  chown "$PG_USER" "$DIR/pg/" && chmod 700 "$DIR/pg/"
}

env_file() {
  # Secrets made once per installation, kept in $DIR/env (mode 600), never committed.
  [ -f "$DIR/env" ] && return
  mkdir -p "$DIR"
  local rnd
  rnd() { "$PY" -c 'import secrets;print(secrets.token_hex(32))'; }
  umask 077
  cat >"$DIR/env" <<ENV
DJANGO_SETTINGS_MODULE=anagen.clinic.settings.production
DJANGO_SECRET_KEY=$(rnd)
ANAGEN_SIGNATURE_KEYS=k1:$(rnd)
ANAGEN_EXPORT_KEY=$(rnd)
ANAGEN_PG_PASSWORD=$(rnd)
ANAGEN_VAR_DIR=$DIR
DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
# Plain HTTP on loopback only: put a TLS proxy in front (docs/operations.md) and drop this line.
ANAGEN_HTTPS=false
# A trial on loopback: no TOTP enrolment. Production keeps the default (required).
ANAGEN_REQUIRE_MFA=false
# No mail server here: mail is discarded, never printed (SMTP settings in docs/operations.md).
EMAIL_BACKEND=django.core.mail.backends.dummy.EmailBackend
ENV
  umask 022
}

load_env() {
  set -a; . "$DIR/env"; set +a
  export DATABASE_URL="postgres://anagen:$ANAGEN_PG_PASSWORD@127.0.0.1:$PG_PORT/anagen"
  export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/1"
  # A reverse proxy on this machine (or the load benchmark standing in for one).
  if [ -n "${ANAGEN_PROD_TRUSTED_PROXIES:-}" ]; then export ANAGEN_TRUSTED_PROXIES=$ANAGEN_PROD_TRUSTED_PROXIES; fi
}

start_pg() {
  [ -x "$PGBIN/initdb" ] || die "PostgreSQL 15 is not installed ($PGBIN): apt-get install postgresql"
  pg_home
  mkdir -p "$DIR/pg/run"; chown "$PG_USER" "$DIR/pg/run"
  if [ ! -f "$DIR/pg/data/PG_VERSION" ]; then
    local pw; pw=$(mktemp); echo "$ANAGEN_PG_PASSWORD" >"$pw"; chown "$PG_USER" "$pw"
    as_pg "$PGBIN/initdb" -D "$DIR/pg/data" -U anagen --pwfile="$pw" --auth=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >"$DIR/pg/initdb.log" 2>&1 || { rm -f "$pw"; die "initdb failed: $DIR/pg/initdb.log"; }
    rm -f "$pw"
  fi
  if as_pg "$PGBIN/pg_ctl" -D "$DIR/pg/data" status >/dev/null 2>&1; then
    say "postgresql already running (port $PG_PORT)"
  else
    as_pg "$PGBIN/pg_ctl" -D "$DIR/pg/data" -l "$DIR/pg/postgresql.log" -w -t 60 \
      -o "-p $PG_PORT -k $DIR/pg/run -c listen_addresses=127.0.0.1" start >/dev/null \
      || die "postgresql did not start: $DIR/pg/postgresql.log"
    say "postgresql started (port $PG_PORT)"
  fi
  PGPASSWORD=$ANAGEN_PG_PASSWORD "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U anagen -d postgres -qtAc \
    "SELECT 1 FROM pg_database WHERE datname='anagen'" | grep -q 1 \
    || PGPASSWORD=$ANAGEN_PG_PASSWORD "$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U anagen anagen
}

start_redis() {
  mkdir -p "$DIR/redis"
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    say "redis already running (port $REDIS_PORT)"; return
  fi
  # Append-only file: queued jobs survive a Redis restart.
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$DIR/redis" \
    --appendonly yes --pidfile "$RUN/redis.pid" --logfile "$LOG/redis.log" >/dev/null
  for _ in $(seq 1 40); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.25; done
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || die "redis did not start: $LOG/redis.log"
  say "redis started (port $REDIS_PORT)"
}

start_app() {
  if alive "$RUN/gunicorn.pid"; then
    # Already serving: nothing to migrate (to deploy new code: make prod-stop && make prod).
    say "already serving; migrations and static files as they are"
  else
    "$PY" manage.py migrate --noinput -v 0
    "$PY" manage.py collectstatic --noinput -v 0
  fi
  if [ "${DEMO:-0}" = 1 ]; then "$PY" manage.py load_demo --patients "${DEMO_PATIENTS:-200}"; fi
  if alive "$RUN/worker.pid"; then say "celery worker already running"; else
    "$BIN/celery" -A anagen.clinic worker --detach --concurrency "$JOB_WORKERS" \
      --pidfile "$RUN/worker.pid" --logfile "$LOG/worker.log" --loglevel INFO -n "anagen@%h"
    await_pid "celery worker" "$RUN/worker.pid" "$LOG/worker.log"
    say "celery worker started"
  fi
  if alive "$RUN/beat.pid"; then say "celery beat already running"; else
    "$BIN/celery" -A anagen.clinic beat --detach --pidfile "$RUN/beat.pid" \
      --logfile "$LOG/beat.log" --schedule "$DIR/celerybeat-schedule"
    await_pid "celery beat" "$RUN/beat.pid" "$LOG/beat.log"
    say "celery beat started"
  fi
  if alive "$RUN/gunicorn.pid"; then say "gunicorn already running (port $WEB_PORT)"; else
    "$BIN/gunicorn" anagen.clinic.wsgi -c ops/gunicorn.conf.py --daemon \
      --bind "127.0.0.1:$WEB_PORT" --workers "$WEB_WORKERS" --pid "$RUN/gunicorn.pid" \
      --access-logfile "$LOG/access.log" --error-logfile "$LOG/gunicorn.log"
    say "gunicorn started (port $WEB_PORT)"
  fi
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$WEB_PORT/health/" >/dev/null 2>&1 && { say "ready: http://127.0.0.1:$WEB_PORT/"; return; }
    sleep 0.25
  done
  die "the site did not answer /health/ within 30 s: $LOG/gunicorn.log"
}

stop_pid() {  # name pidfile
  if alive "$2"; then
    local pid; pid=$(cat "$2")
    kill -TERM "$pid"
    for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    say "$1 stopped"
  fi
  rm -f "$2"
}

case "${1:-}" in
  start)
    mkdir -p "$RUN" "$LOG"
    env_file; load_env
    start_pg; start_redis; start_app ;;
  stop)
    [ -d "$DIR" ] || { say "nothing to stop"; exit 0; }
    stop_pid gunicorn "$RUN/gunicorn.pid"
    stop_pid "celery beat" "$RUN/beat.pid"
    stop_pid "celery worker" "$RUN/worker.pid"
    if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && [ -f "$RUN/redis.pid" ]; then
      redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true; rm -f "$RUN/redis.pid"; say "redis stopped"
    fi
    if [ -f "$DIR/pg/data/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$DIR/pg/data" status >/dev/null 2>&1; then
      as_pg "$PGBIN/pg_ctl" -D "$DIR/pg/data" -m fast -w stop >/dev/null; say "postgresql stopped"
    fi ;;
  status)
    for p in gunicorn worker beat redis; do alive "$RUN/$p.pid" && echo "$p: running" || echo "$p: stopped"; done
    [ -f "$DIR/pg/data/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$DIR/pg/data" status >/dev/null 2>&1 \
      && echo "postgresql: running" || echo "postgresql: stopped" ;;
  env)  # print the environment of this installation (for manage.py, backups, the benchmark)
    env_file; load_env
    env | grep -E '^(DJANGO_|ANAGEN_|DATABASE_URL|CELERY_BROKER_URL|REDIS_URL|EMAIL_BACKEND)' | sed 's/^/export /' ;;
  *) die "usage: ops/prod.sh start|stop|status|env" ;;
esac
