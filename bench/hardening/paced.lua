-- wrk script for "normal clients": each connection waits DELAY ms (default 10) before each request, so a few
-- connections make a modest, steady load and wrk's latencies are the server's answer time, not a queue wrk built.
--   wrk -t1 -c16 -d20s --latency -s bench/hardening/paced.lua http://127.0.0.1:PORT/ -- 10
local pause = 10

function init(args)
  if args[1] then pause = tonumber(args[1]) end
end

function delay()
  return pause
end
