import Foundation
import KVLoad
import KVWorkload
import Testing

@Suite("Reports and interval logs")
struct ReportTests {
    func nullRun(_ extra: [String: String] = [:]) throws -> RunResult {
        var p = ["recordcount": "500", "operationcount": "4000", "readproportion": "0.5", "updateproportion": "0.3",
                 "insertproportion": "0.1", "deleteproportion": "0.1", "seed": "3"]
        p.merge(extra) { $1 }
        let plan = RunPlan(spec: try spec(p), phase: .run, threads: 2)
        return try LoadDriver.run(plan: plan, binding: NullBinding(), bindingName: "null")
    }

    @Test func ycsbSummaryFormat() throws {
        let r = try nullRun()
        let text = Reports.ycsbText(r)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("[OVERALL], RunTime(ms), "))
        #expect(lines[1].hasPrefix("[OVERALL], Throughput(ops/sec), "))
        for op in ["READ", "UPDATE", "INSERT", "DELETE"] {
            for metric in ["Operations", "AverageLatency(us)", "MinLatency(us)", "MaxLatency(us)", "50thPercentileLatency(us)",
                           "90thPercentileLatency(us)", "99thPercentileLatency(us)", "99.9PercentileLatency(us)",
                           "99.99PercentileLatency(us)", "Return=OK"] {
                #expect(lines.contains { $0.hasPrefix("[\(op)], \(metric), ") }, "missing [\(op)], \(metric)")
            }
        }
        let total = lines.filter { $0.contains(", Operations, ") }.compactMap { Int($0.split(separator: " ").last!) }.reduce(0, +)
        #expect(total == 4000)
        #expect(!text.contains("Intended-"), "closed loop prints no intended blocks")
    }

    @Test func csvColumns() throws {
        let r = try nullRun()
        let summary = Reports.summaryCSV(r).split(separator: "\n").map(String.init)
        #expect(summary[0] == "operation,count,errors,throughput_ops,mean_us,p50_us,p90_us,p99_us,p999_us,p9999_us,max_us")
        #expect(summary.contains { $0.hasPrefix("OVERALL,4000,0,") })
        for row in summary.dropFirst() { #expect(row.split(separator: ",").count == 11) }
        let series = Reports.timeseriesCSV(r).split(separator: "\n").map(String.init)
        #expect(series[0] == "second,operation,count,mean_us,p50_us,p90_us,p99_us,p999_us,max_us,errors")
        let counted = series.dropFirst().map { Int($0.split(separator: ",")[2])! }.reduce(0, +)
        #expect(counted == 4000)
        let nodes = Reports.nodesCSV(r).split(separator: "\n").map(String.init)
        #expect(nodes == ["node,ops,keys_touched,share", nodes[1]])
        #expect(nodes[1].hasPrefix("null,4000,"))
        let json = try JSONSerialization.jsonObject(with: Data(Reports.summaryJSON(r).utf8)) as? [String: Any]
        #expect(json?["operations"] as? Int == 4000)
    }

    @Test func histogramEncodingRoundTrip() throws {
        var h = LatencyHistogram.latency()
        var x: UInt64 = 1
        for i in 0..<50_000 {
            x = x &* 2_862_933_555_777_941_757 &+ 3_037_000_493
            h.record(1 + (x >> 40) % (i % 7 == 0 ? 5_000_000_000 : 200_000))
        }
        let plain = try HistogramEncoding.decode(HistogramEncoding.encode(h))
        #expect(plain == h)
        let compressed = HistogramEncoding.encodeCompressed(h)
        #expect(compressed.prefix(4) == [0x1c, 0x84, 0x93, 0x14])
        #expect(try HistogramEncoding.decode(compressed) == h)
    }

    @Test func intervalLogRoundTripAndMerge() throws {
        let r = try nullRun()
        let dir = NSTemporaryDirectory() + "kvload-test-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Reports.write(r, to: dir)
        let text = try String(contentsOfFile: dir + "/READ.hlog", encoding: .utf8)
        #expect(text.hasPrefix("#[Histogram log format version 1.3]"))
        let entries = try IntervalLog.parse(text)
        var fromLog: LatencyHistogram?
        for e in entries where e.tag == nil {
            if fromLog == nil { fromLog = e.histogram } else { fromLog!.add(e.histogram) }
        }
        #expect(fromLog == r.totals.merged(kinds: [.read], measure: .service))
        // Merging a run with itself doubles every count, percentiles unchanged.
        let merged = try RunMerger.merge(directories: [dir, dir])
        #expect(merged.operations == 2 * r.operations)
        #expect(merged.totals.count(.delete, .notFound) + merged.totals.count(.delete, .ok) == 2 * (r.totals.count(.delete, .ok) + r.totals.count(.delete, .notFound)))
        let a = try #require(merged.totals.merged(measure: .service)), b = try #require(r.totals.merged(measure: .service))
        #expect(a.valueAtPercentile(99) == b.valueAtPercentile(99))
    }

    /// A run that will write no output directory encodes no interval log, and measures the same.
    @Test func noIntervalLogWhenNothingWritesIt() throws {
        var p = ["recordcount": "500", "operationcount": "4000", "readproportion": "0.5", "updateproportion": "0.5", "seed": "3"]
        p["threadcount"] = "1"
        var plan = RunPlan(spec: try spec(p), phase: .run, threads: 1)
        let kept = try LoadDriver.run(plan: plan, binding: NullBinding(), bindingName: "null")
        plan.keepsIntervalLog = false
        let skipped = try LoadDriver.run(plan: plan, binding: NullBinding(), bindingName: "null")
        #expect(!kept.logLines.isEmpty && kept.logLines["READ"]?.isEmpty == false)
        #expect(skipped.logLines.isEmpty)
        #expect(skipped.operations == kept.operations)
        #expect(skipped.totals.count(.read, .ok) + skipped.totals.count(.read, .notFound)
                == kept.totals.count(.read, .ok) + kept.totals.count(.read, .notFound))
        #expect(!skipped.rows.isEmpty)
    }

    @Test func statusLineIsQuietWhenPiped() {
        var printed: [String] = []
        let line = StatusLine(isTerminal: false, pipedEvery: 10) { printed.append($0) }
        for second in 0..<25 { line.show("s\(second)", second: second) }
        #expect(printed == ["s9\n", "s19\n"])
        var tty: [String] = []
        let t = StatusLine(isTerminal: true) { tty.append($0) }
        t.show("a", second: 0)
        t.finish()
        #expect(tty == ["\ra\u{1B}[K", "\n"])
    }
}
