-- GET /api/products/<id>, ids drawn at random from [args[1], args[2]].
local first, last

function init(args)
   first, last = tonumber(args[1]), tonumber(args[2])
   math.randomseed(os.time() * 100 + thread_number)
end

function request()
   return wrk.format("GET", "/api/products/" .. math.random(first, last))
end
