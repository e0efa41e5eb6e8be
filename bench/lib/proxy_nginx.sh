# shellcheck shell=bash
# The nginx configuration shared by the proxy benchmarks (proxy.sh, proxy_instructions.sh): an upstream that serves
# $work/html and an nginx proxy_pass in front of it, keep-alive 64 to the upstream at $UP.
#   proxy_nginx_conf NAME PORT SERVER-BODY MAIN-LINES   # writes $work/NAME.conf; MAIN-LINES: process settings
proxy_nginx_conf() {
  cat > "$work/$1.conf" <<CONF
daemon off;
$4
error_log $work/$1-error.log warn;
pid $work/$1.pid;
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  client_body_temp_path $work; proxy_temp_path $work;
  upstream origin { server 127.0.0.1:$UP; keepalive 64; }
  server { listen 127.0.0.1:$2; $3 }
}
CONF
}
