-- Paces the run to about RATE requests/s (Debian's wrk has no -R option):
-- with one connection per 1000 req/s, each connection waits 1 ms between
-- requests (wrk's delay() has millisecond resolution).
function delay()
  return 1
end
