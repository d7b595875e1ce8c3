-- Requests made as many logged-in users. args: cookie file, thread count, mode, first id,
-- last id. Request n of thread t uses cookie t + n * threads, so no two requests of the run
-- share a cookie until the file runs out (then it wraps around). Modes:
--   cart      GET /api/cart
--   add       POST /api/cart/items {"product_id": random in [first, last], "quantity": 1}
--   checkout  POST /api/cart/checkout (each cookie's cart was filled beforehand)
local cookies, stride, mode, first, last
local next_index

function init(args)
   cookies = read_lines(args[1])
   stride = tonumber(args[2])
   mode = args[3]
   first, last = tonumber(args[4] or 1), tonumber(args[5] or 1)
   next_index = thread_number - 1
   math.randomseed(os.time() * 100 + thread_number)
end

function request()
   local headers = { Cookie = cookies[(next_index % #cookies) + 1] }
   next_index = next_index + stride
   if mode == "cart" then
      return wrk.format("GET", "/api/cart", headers)
   end
   headers["Content-Type"] = "application/json"
   if mode == "add" then
      local body = string.format('{"product_id": %d, "quantity": 1}', math.random(first, last))
      return wrk.format("POST", "/api/cart/items", headers, body)
   end
   return wrk.format("POST", "/api/cart/checkout", headers, "{}")
end
