#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis servers the test suite needs are answering.
#
#   DATABASE_URL  default postgres://postgres@127.0.0.1:5432/orchestrator
#   REDIS_URL     default redis://127.0.0.1:6379/0
#
# For each: if it answers, fine. If it does not, and its host is this machine, and
# we are root, and the server's start command exists, start it and wait up to
# ~15 s. Otherwise say exactly what is missing and how to start it, and exit 1.
# Also makes sure the PostgreSQL role of DATABASE_URL exists (with CREATEDB, which
# pytest-django needs to create test_<name>) and that its database exists.
set -euo pipefail

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/orchestrator}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
WAIT_SECONDS="${ENSURE_SERVICES_WAIT:-15}"

PY="$(command -v python3 || command -v python || true)"
if [ -z "$PY" ]; then
    echo "ensure_services: python3 is needed to read DATABASE_URL/REDIS_URL" >&2
    exit 1
fi

# parse_url URL DEFAULT_PORT -> scheme, host, port, user, password, path (without '/'), separated by
# US (\x1f): a non-blank separator, so that `read` keeps empty fields.
parse_url() {
    "$PY" - "$1" "$2" <<'PYEOF'
import sys
from urllib.parse import unquote, urlparse

u = urlparse(sys.argv[1])
try:
    port = u.port
except ValueError:
    sys.exit(f"bad port in URL {sys.argv[1]!r}")
print("\x1f".join([
    u.scheme or "",
    u.hostname or "127.0.0.1",
    str(port or int(sys.argv[2])),
    unquote(u.username or ""),
    unquote(u.password or ""),
    unquote((u.path or "").lstrip("/")),
]))
PYEOF
}

# URL with the password hidden, for messages.
masked() {
    "$PY" -c 'import re,sys; print(re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", sys.argv[1]))' "$1"
}

is_local() {
    case "$1" in
        127.0.0.1 | localhost | ::1 | "[::1]" | 0.0.0.0) return 0 ;;
        *) return 1 ;;
    esac
}

is_root() { [ "$(id -u)" = "0" ]; }

tcp_open() { # host port
    "$PY" - "$1" "$2" <<'PYEOF'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
except OSError:
    sys.exit(1)
PYEOF
}

# --- PostgreSQL -------------------------------------------------------------------
pg_up() { # host port
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$1" -p "$2" -t 2
    else
        tcp_open "$1" "$2"
    fi
}

pg_start_cmd() { # port -> prints the command that starts the local cluster on that port
    local port="$1" line ver name
    if command -v pg_lsclusters >/dev/null 2>&1; then
        # columns: Ver Cluster Port Status Owner Data-directory Log-file
        while read -r ver name cport _; do
            if [ "$cport" = "$port" ]; then
                echo "pg_ctlcluster --skip-systemctl-redirect $ver $name start"
                return 0
            fi
        done < <(pg_lsclusters --no-header 2>/dev/null || true)
        return 1 # no local cluster is configured for that port
    fi
    if [ -d /etc/postgresql ] && [ "$port" = "5432" ]; then
        line="$(ls /etc/postgresql | sort -V | tail -n 1)"
        if [ -n "$line" ]; then
            echo "pg_ctlcluster --skip-systemctl-redirect $line main start"
            return 0
        fi
    fi
    return 1
}

# psql as the superuser "postgres" (trust auth locally), falling back to the URL's user.
pg_admin() { # host port sql...
    local host="$1" port="$2"
    shift 2
    PGCONNECT_TIMEOUT=5 psql -X -q -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U postgres -d postgres -tA "$@" 2>/dev/null ||
        PGCONNECT_TIMEOUT=5 PGPASSWORD="$DB_PASS" psql -X -q -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U "$DB_USER" -d postgres -tA "$@" 2>/dev/null
}

sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }
sql_ident() { printf '"%s"' "${1//\"/\"\"}"; }

ensure_pg_role_and_db() { # host port
    local host="$1" port="$2" exists
    if ! command -v psql >/dev/null 2>&1; then
        echo "ensure_services: psql not found; not checking that role '$DB_USER' and database '$DB_NAME' exist"
        return 0
    fi
    if ! exists="$(pg_admin "$host" "$port" -c "SELECT 1 FROM pg_roles WHERE rolname = $(sql_literal "$DB_USER")")"; then
        echo "ensure_services: could not connect to PostgreSQL at $host:$port as 'postgres' or '$DB_USER' to check roles" >&2
        return 1
    fi
    if [ "$exists" != "1" ]; then
        echo "ensure_services: creating PostgreSQL role '$DB_USER' (LOGIN CREATEDB)"
        local pw=""
        [ -n "$DB_PASS" ] && pw=" PASSWORD $(sql_literal "$DB_PASS")"
        pg_admin "$host" "$port" -c "CREATE ROLE $(sql_ident "$DB_USER") LOGIN CREATEDB$pw" >/dev/null || {
            echo "ensure_services: role '$DB_USER' does not exist in PostgreSQL at $host:$port and could not be created." >&2
            echo "  Create it with: psql -h $host -p $port -U postgres -c 'CREATE ROLE \"$DB_USER\" LOGIN CREATEDB'" >&2
            return 1
        }
    fi
    if [ -n "$DB_NAME" ]; then
        exists="$(pg_admin "$host" "$port" -c "SELECT 1 FROM pg_database WHERE datname = $(sql_literal "$DB_NAME")" || true)"
        if [ "$exists" != "1" ]; then
            echo "ensure_services: creating PostgreSQL database '$DB_NAME' owned by '$DB_USER'"
            pg_admin "$host" "$port" -c "CREATE DATABASE $(sql_ident "$DB_NAME") OWNER $(sql_ident "$DB_USER")" >/dev/null ||
                echo "ensure_services: warning: could not create database '$DB_NAME' (pytest-django still creates test_$DB_NAME)" >&2
        fi
    fi
}

# --- Redis ------------------------------------------------------------------------
redis_up() { # host port
    if command -v redis-cli >/dev/null 2>&1; then
        local out
        out="$(REDISCLI_AUTH="$REDIS_PASS" timeout 5 redis-cli --no-auth-warning -h "$1" -p "$2" ping 2>/dev/null || true)"
        [ "$out" = "PONG" ]
    else
        tcp_open "$1" "$2"
    fi
}

redis_start_cmd() { # port
    if command -v redis-server >/dev/null 2>&1; then
        echo "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port $1 --save \"\" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
        return 0
    fi
    return 1
}

wait_for() { # check-function host port
    local i
    for ((i = 0; i < WAIT_SECONDS; i++)); do
        if "$1" "$2" "$3"; then return 0; fi
        sleep 1
    done
    "$1" "$2" "$3"
}

missing=()

# PostgreSQL
parsed="$(parse_url "$DATABASE_URL" 5432)" || { echo "ensure_services: cannot parse DATABASE_URL" >&2; exit 1; }
IFS=$'\x1f' read -r DB_SCHEME DB_HOST DB_PORT DB_USER DB_PASS DB_NAME <<<"$parsed"
DB_USER="${DB_USER:-postgres}"
case "$DB_SCHEME" in
    postgres | postgresql | pgsql | postgis)
        if pg_up "$DB_HOST" "$DB_PORT"; then
            echo "ensure_services: PostgreSQL is up at $DB_HOST:$DB_PORT"
        else
            started=""
            if is_local "$DB_HOST" && is_root && cmd="$(pg_start_cmd "$DB_PORT")"; then
                echo "ensure_services: PostgreSQL is down at $DB_HOST:$DB_PORT; starting it: $cmd"
                eval "$cmd" || echo "ensure_services: '$cmd' failed" >&2
                if wait_for pg_up "$DB_HOST" "$DB_PORT"; then
                    started=1
                    echo "ensure_services: PostgreSQL is up at $DB_HOST:$DB_PORT"
                fi
            fi
            if [ -z "$started" ]; then
                msg="PostgreSQL is not answering at $DB_HOST:$DB_PORT (DATABASE_URL=$(masked "$DATABASE_URL"))."
                if is_local "$DB_HOST"; then
                    msg+=$'\n'"    Start it with: sudo pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"
                    msg+=$'\n'"    (or: sudo service postgresql start; or install it: sudo apt-get install postgresql)"
                fi
                msg+=$'\n'"    Or point DATABASE_URL at a reachable server: DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/orchestrator"
                missing+=("$msg")
            fi
        fi
        if pg_up "$DB_HOST" "$DB_PORT"; then
            ensure_pg_role_and_db "$DB_HOST" "$DB_PORT" || missing+=("PostgreSQL role '$DB_USER' / database '$DB_NAME' at $DB_HOST:$DB_PORT (see above).")
        fi
        ;;
    *)
        echo "ensure_services: DATABASE_URL is not PostgreSQL ($DB_SCHEME); not checking a database server"
        ;;
esac

# Redis
parsed="$(parse_url "$REDIS_URL" 6379)" || { echo "ensure_services: cannot parse REDIS_URL" >&2; exit 1; }
IFS=$'\x1f' read -r R_SCHEME R_HOST R_PORT _ REDIS_PASS _ <<<"$parsed"
case "$R_SCHEME" in
    redis | rediss)
        if redis_up "$R_HOST" "$R_PORT"; then
            echo "ensure_services: Redis is up at $R_HOST:$R_PORT"
        else
            started=""
            if is_local "$R_HOST" && is_root && cmd="$(redis_start_cmd "$R_PORT")"; then
                echo "ensure_services: Redis is down at $R_HOST:$R_PORT; starting it: $cmd"
                mkdir -p /var/lib/redis /var/log/redis
                eval "$cmd" || echo "ensure_services: '$cmd' failed" >&2
                if wait_for redis_up "$R_HOST" "$R_PORT"; then
                    started=1
                    echo "ensure_services: Redis is up at $R_HOST:$R_PORT"
                fi
            fi
            if [ -z "$started" ]; then
                msg="Redis is not answering at $R_HOST:$R_PORT (REDIS_URL=$(masked "$REDIS_URL"))."
                if is_local "$R_HOST"; then
                    msg+=$'\n'"    Start it with: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port $R_PORT --save \"\" --appendonly no"
                    msg+=$'\n'"    (or install it: sudo apt-get install redis-server)"
                fi
                msg+=$'\n'"    Or point REDIS_URL at a reachable server: REDIS_URL=redis://HOST:6379/0"
                missing+=("$msg")
            fi
        fi
        ;;
    *)
        missing+=("REDIS_URL must be a redis:// or rediss:// URL (got '$(masked "$REDIS_URL")').")
        ;;
esac

if [ "${#missing[@]}" -gt 0 ]; then
    echo >&2
    echo "ensure_services: the test suite needs real PostgreSQL and Redis servers; missing:" >&2
    for m in "${missing[@]}"; do
        echo "  - $m" >&2
    done
    exit 1
fi
