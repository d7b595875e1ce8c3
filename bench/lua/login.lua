-- POST /api/login as users drawn at random. args: username pattern with %d, first number,
-- last number, password.
local pattern, first, last, password

function init(args)
   pattern, first, last, password = args[1], tonumber(args[2]), tonumber(args[3]), args[4]
   math.randomseed(os.time() * 100 + thread_number)
end

function request()
   local username = string.format(pattern, math.random(first, last))
   local body = string.format('{"username": "%s", "password": "%s"}', username, password)
   return wrk.format("POST", "/api/login", { ["Content-Type"] = "application/json" }, body)
end
