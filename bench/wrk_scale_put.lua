-- wrk_scale_put.lua - verified PUT /v1/ptr/{ip} from many accounts: each line of the
-- file is "<token> <ip> <k>", and pass p over a thread's lines sets <v><k>.<domain>, v the
-- (p % 2 + 1)th letter of variants (as wrk_put.lua: every such name has an A record for
-- its address, so every PUT is a change when the first variant is not the name in place).
-- Thread t of nthreads owns lines [t * m, (t + 1) * m). Args: file domain variants nthreads
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local common = require("wrk_common")

local reqs, n, i, m, base = {}, 0, 0, 1, 0
codes = {}

function setup(thread)
	common.setup(thread)
end

function init(args)
	local domain, variants = args[2], args[3] or "ba"
	for line in io.lines(args[1]) do
		local token, ip, k = line:match("^(%S+) (%S+) (%S+)$")
		local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
		for v = 1, 2 do
			local body = string.format('{"hostname": "%s%s.%s"}', variants:sub(v, v), k, domain)
			reqs[2 * n + v - 1] = wrk.format("PUT", "/v1/ptr/" .. ip, headers, body)
		end
		n = n + 1
	end
	m = math.floor(n / tonumber(args[4] or "1"))
	base = (tid or 0) * m
end

function request()
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
