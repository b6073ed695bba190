-- wrk_get.lua - GET /v1/ptr/{ip} for n addresses of an IPv4 /16 (o1.o2.x.y),
-- round robin from a per-thread offset. Args: token o1.o2 n
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local common = require("wrk_common")

local reqs, n, i = {}, 0, 0

function setup(thread)
	common.setup(thread)
end

function init(args)
	local token, net = args[1], args[2]
	n = tonumber(args[3])
	local headers = { ["Authorization"] = "Bearer " .. token }
	for k = 0, n - 1 do
		local ip = string.format("%s.%d.%d", net, math.floor(k / 256), k % 256)
		reqs[k] = wrk.format("GET", "/v1/ptr/" .. ip, headers)
	end
	i = (tid or 0) * math.floor(n / 2)
end

function request()
	local r = reqs[i % n]
	i = i + 1
	return r
end

function done(summary, latency, requests)
	common.done(summary, latency, requests, false)
end
