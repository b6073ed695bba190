-- wrk_scale_get.lua - GET /v1/ptr/{ip} from many accounts: each line of the file is
-- "<token> <ip>" (an address and a token of the account that holds it), cycled over
-- from a per-thread offset. Args: file nthreads
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local common = require("wrk_common")

local reqs, n, i = {}, 0, 0
codes = {}

function setup(thread)
	common.setup(thread)
end

function init(args)
	for line in io.lines(args[1]) do
		local token, ip = line:match("^(%S+) (%S+)$")
		reqs[n] = wrk.format("GET", "/v1/ptr/" .. ip, { ["Authorization"] = "Bearer " .. token })
		n = n + 1
	end
	i = (tid or 0) * math.floor(n / tonumber(args[2] or "1"))
end

function request()
	local r = reqs[i % n]
	i = i + 1
	return r
end

function response(status, headers, body)
	codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
	common.done(summary, latency, requests, true)
end
