-- wrk script for bench/ingress.sh: signed GitHub pull_request deliveries, each with its own
-- delivery id, on kept-alive connections. BENCH_BODY_FILE, BENCH_SIGNATURE and BENCH_PATH come
-- from the environment.

local body_file = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
local body = body_file:read("*a")
body_file:close()
local signature = os.getenv("BENCH_SIGNATURE")
local path = os.getenv("BENCH_PATH")
-- BENCH_KEEPALIVE=0 leaves the header out, as a client that does not ask for keep-alive.
local keep_alive = os.getenv("BENCH_KEEPALIVE") ~= "0"

local next_thread = 0
function setup(thread)
  next_thread = next_thread + 1
  thread:set("thread_number", next_thread)
end

local sent = 0
function request()
  sent = sent + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-GitHub-Event"] = "pull_request",
    ["X-GitHub-Delivery"] = string.format("bench-%d-%d-%d", run_id, thread_number, sent),
    ["X-Hub-Signature-256"] = signature,
  }
  if keep_alive then headers["Connection"] = "keep-alive" end
  return wrk.format("POST", path, headers, body)
end

function init(args)
  run_id = tonumber(args[1]) or 0
end
