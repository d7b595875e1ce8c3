-- GET <prefix><id>, ids drawn at random from [args[1], args[2]]; the prefix is args[3],
-- /api/products/ when not given.
local first, last, prefix

function init(args)
   first, last = tonumber(args[1]), tonumber(args[2])
   prefix = args[3] or "/api/products/"
   math.randomseed(os.time() * 100 + thread_number)
end

function request()
   return wrk.format("GET", prefix .. math.random(first, last))
end
