#!/bin/sh
# LAB STAND-IN for the WSO2 product start script (not the real product): start returns at once,
# stop sends SIGTERM and does not wait, restart waits, version prints the build. Like the real one
# it honours JAVA_HOME and JVM_MEM_OPTS and writes <home>/wso2carbon.pid.
CARBON_HOME=$(cd "$(dirname "$0")/.." && pwd)
PID_FILE="$CARBON_HOME/wso2carbon.pid"
. "$CARBON_HOME/bin/product.env"
[ -f "$CARBON_HOME/bin/lab.env" ] && . "$CARBON_HOME/bin/lab.env"
if [ -n "$JAVA_HOME" ]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi
JVM_MEM_OPTS=${JVM_MEM_OPTS:--Xms256m -Xmx1024m}

running() { [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

start() {
  if running; then echo "Process is already running"; return 0; fi
  mkdir -p "$CARBON_HOME/repository/logs"
  # setsid + nohup: the server must outlive the shell (and the SSH session) that started it.
  setsid nohup "$JAVA" $JVM_MEM_OPTS $JAVA_OPTS -Dcarbon.home="$CARBON_HOME" -Dlab.profile="$LAB_PROFILE" \
    -Dlab.version="$PRODUCT_VERSION" -Dlab.startupDelayMs="${LAB_STARTUP_DELAY_MS:-5000}" \
    -cp "$CARBON_HOME/lib/lab-standin.jar" lab.standin.Carbon \
    >>"$CARBON_HOME/repository/logs/wso2carbon-stdout.log" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  echo "Starting $PRODUCT_NAME $PRODUCT_VERSION (lab stand-in) ..."
}

stop() {
  if running; then kill -TERM "$(cat "$PID_FILE")"; echo "Stopping $PRODUCT_NAME ..."; else echo "Process is not running"; fi
}

case "$1" in
  start) start ;;
  stop) stop ;;
  restart)
    stop
    i=0
    while running && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
    start ;;
  version) echo "$PRODUCT_NAME $PRODUCT_VERSION (lab stand-in)" ;;
  *) echo "Usage: $0 start|stop|restart|version" >&2; exit 1 ;;
esac
