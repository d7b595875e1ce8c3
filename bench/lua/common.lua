-- Put before every scenario script: numbers wrk's threads and reads files of lines.
local threads_seen = 0

function setup(thread)
   threads_seen = threads_seen + 1
   thread:set("thread_number", threads_seen)
end

function read_lines(path)
   local lines = {}
   for line in io.lines(path) do
      if line ~= "" then
         lines[#lines + 1] = line
      end
   end
   return lines
end
