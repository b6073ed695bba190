-- wrk_common.lua - shared by the wrk_*.lua scripts: per-thread status counting and
-- one machine-readable RESULT line (plus CODES) printed by done().
local M = {}
local threads = {}
local nthreads = 0

-- setup(thread): give each thread an index so it can start at its own offset.
function M.setup(thread)
	thread:set("tid", nthreads)
	nthreads = nthreads + 1
	table.insert(threads, thread)
end

function M.done(summary, latency, requests, count_codes)
	local e = summary.errors
	io.write(string.format(
		"RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f "
			.. "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
		summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
		latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
	if count_codes then
		local total = {}
		for _, t in ipairs(threads) do
			local c = t:get("codes")
			if c then
				for k, v in pairs(c) do
					total[k] = (total[k] or 0) + v
				end
			end
		end
		local parts = {}
		for k, v in pairs(total) do
			table.insert(parts, string.format("%d=%d", k, v))
		end
		io.write("CODES " .. table.concat(parts, " ") .. "\n")
	end
end

return M
