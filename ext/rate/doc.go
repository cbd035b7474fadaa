// Package rate holds matches that count and limit: limit, hashlimit, recent, quota, statistic, rateest, nfacct, time, cpu, cgroup.
package rate
