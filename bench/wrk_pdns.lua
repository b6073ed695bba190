-- wrk_pdns.lua - the baseline for verified PUTs: the same PTR changes as PowerDNS API
-- rrset PATCHes (changetype REPLACE) on the zone o2.o1.in-addr.arpa. Counts status
-- codes (204 is success). Args: apikey o1.o2 n domain variants nthreads (as in wrk_put.lua)
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local common = require("wrk_common")

local reqs, n, i, m, base = {}, 0, 0, 1, 0
local variants
codes = {}

function setup(thread)
	common.setup(thread)
end

function init(args)
	local key, net, domain = args[1], args[2], args[4]
	n = tonumber(args[3])
	variants = args[5] or "ba"
	local o1, o2 = net:match("^(%d+)%.(%d+)$")
	local zone = string.format("%s.%s.in-addr.arpa.", o2, o1)
	local headers = { ["X-API-Key"] = key, ["Content-Type"] = "application/json" }
	for k = 0, n - 1 do
		local owner = string.format("%d.%d.%s", k % 256, math.floor(k / 256), zone)
		for v = 1, 2 do
			local name = variants:sub(v, v)
			local body = string.format(
				'{"rrsets": [{"name": "%s", "type": "PTR", "ttl": 3600, "changetype": "REPLACE", '
					.. '"records": [{"content": "%s%d.%s.", "disabled": false}]}]}',
				owner, name, k, domain)
			reqs[2 * k + v - 1] = wrk.format("PATCH", "/api/v1/servers/localhost/zones/" .. zone, headers, body)
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
