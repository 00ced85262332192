import Foundation
import KVWorkload

/// `kvbench merge`: rebuilds one result from several runs' `--out` directories. Histograms come
/// from the interval logs' tagged lines, so counts and percentiles merge losslessly; intervals
/// are aligned by their index from each run's start. Elapsed time is the longest run's (runs
/// are meant to be concurrent). Node key counts are summed (an upper bound: the same key may
/// be counted by several clients).
public enum RunMerger {
    public static func merge(directories: [String]) throws -> RunResult {
        guard !directories.isEmpty else { throw LoadError.badInput("no directories to merge") }
        var snapshots: [IntervalSnapshot] = []
        var elapsed = 0.0, threads = 0, target = 0.0, scheduled: Int64 = 0
        var openLoop = false, binding = "", phase = "", startTime = Double.infinity
        var nodeOps: [String: Int64] = [:], nodeKeys: [String: Int] = [:], nodeOrder: [String] = []
        for (d, directory) in directories.enumerated() {
            guard let data = FileManager.default.contents(atPath: directory + "/summary.json"),
                  let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw LoadError.badInput("\(directory)/summary.json is missing or unreadable")
            }
            elapsed = max(elapsed, json["elapsed_s"] as? Double ?? 0)
            threads += json["threads"] as? Int ?? 0
            target += json["offered_ops"] as? Double ?? 0
            scheduled += Int64(json["scheduled"] as? Int ?? 0)
            openLoop = openLoop || (json["open_loop"] as? Bool ?? false)
            binding = json["binding"] as? String ?? binding
            phase = json["phase"] as? String ?? phase
            startTime = min(startTime, json["start_time"] as? Double ?? startTime)
            for node in json["nodes"] as? [[String: Any]] ?? [] {
                guard let name = node["node"] as? String else { continue }
                if nodeOps[name] == nil { nodeOrder.append(name) }
                nodeOps[name, default: 0] += Int64(node["ops"] as? Int ?? 0)
                nodeKeys[name, default: 0] += node["keys_touched"] as? Int ?? 0
            }
            var byInterval: [Int: HistogramSet] = [:]
            let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".hlog") }
            for file in files {
                let name = String(file.dropLast(5))
                guard let kind = OperationKind.allCases.first(where: { $0.ycsbName == name }),
                      let text = FileManager.default.contents(atPath: directory + "/" + file) else { continue }
                for entry in try IntervalLog.parse(String(decoding: text, as: UTF8.self)) {
                    guard let tag = entry.tag, let (measure, outcome) = IntervalLog.parseTag(tag) else { continue }
                    let index = entry.length > 0 ? Int((entry.start / entry.length).rounded()) : 0
                    let slot = HistogramSlot(kind: kind, outcome: outcome, measure: measure)
                    var set = byInterval[index, default: HistogramSet()]
                    if set[slot] == nil { set[slot] = entry.histogram } else { set[slot]!.add(entry.histogram) }
                    byInterval[index] = set
                }
            }
            for (index, set) in byInterval.sorted(by: { $0.key < $1.key }) {
                snapshots.append(IntervalSnapshot(worker: d, interval: index, histograms: set, scheduled: 0, final: false))
            }
            snapshots.append(IntervalSnapshot(worker: d, interval: byInterval.keys.max() ?? 0, histograms: HistogramSet(),
                                              scheduled: 0, final: true))
        }
        var aggregator = RunAggregator(workerCount: directories.count, openLoop: openLoop)
        aggregator.absorb(snapshots)
        var result = RunResult(binding: binding, phase: phase, threads: threads, openLoop: openLoop, targetRate: target,
                               elapsedSeconds: elapsed, scheduled: scheduled, totals: aggregator.totals, rows: aggregator.rows,
                               logLines: aggregator.logLines, nodeNames: nodeOrder, nodeOperations: nodeOrder.map { nodeOps[$0]! },
                               nodeKeysTouched: nodeOrder.map { nodeKeys[$0]! }, startTime: startTime.isFinite ? startTime : 0)
        result.notes.append("merged from \(directories.count) runs: " + directories.joined(separator: " "))
        return result
    }
}
