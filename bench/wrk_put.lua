-- wrk_put.lua - verified PUT /v1/ptr/{ip} over n addresses of an IPv4 /16 (o1.o2.x.y).
-- Pass p over the addresses sets <v><k>.<domain>, v the (p % 2 + 1)th letter of the
-- variants argument (e.g. "ca": c<k>, then a<k>, c<k>, ...); every such name has an A
-- record for its address in the forward zone. When the first variant differs from the
-- names in place, every PUT changes the PTR. Counts response status codes.
-- Args: token o1.o2 n domain variants nthreads
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local common = require("wrk_common")

local reqs, n, i, m, base = {}, 0, 0, 1, 0
local variants
codes = {}

function setup(thread)
	common.setup(thread)
end

function init(args)
	local token, net, domain = args[1], args[2], args[4]
	n = tonumber(args[3])
	variants = args[5] or "ba"
	local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
	for k = 0, n - 1 do
		local ip = string.format("%s.%d.%d", net, math.floor(k / 256), k % 256)
		for v = 1, 2 do
			local name = variants:sub(v, v)
			local body = string.format('{"hostname": "%s%d.%s"}', name, k, domain)
			reqs[2 * k + v - 1] = wrk.format("PUT", "/v1/ptr/" .. ip, headers, body)
		end
	end
	-- Thread t of nthreads owns the addresses [t * m, (t + 1) * m), m = n / nthreads,
	-- so no two threads set the same address and every PUT is a change.
	local nthreads = tonumber(args[6] or "1")
	m = math.floor(n / nthreads)
	base = (tid or 0) * m
end

function request()
	-- pass p over the thread's addresses uses variant p % 2
	local k = base + i % m
	local v = math.floor(i / m) % 2
	i = i + 1
	return reqs[2 * k + v]
end

function response(status, headers, body)
	codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
	common.done(summary, latency, requests, true)
end
