import Foundation

/// The files a scenario run writes next to the run's own: `events.csv` (one row per event, what it
/// cost), `cluster.csv` (every node's counters at every sample: the time series behind the
/// per-node and bytes-moved plots) and `scenario.json`, plus the table printed at the end.
public enum ScenarioReports {
    public static let eventColumns = "time_s,action,node,detect_s,recover_s,errors,p99_before_us,p99_after_us,p999_before_us,"
        + "p999_after_us,ops_before,ops_after,keys_moved,bytes_moved,copies_before,ideal_keys_moved,moved_fraction,ideal_fraction,"
        + "balanced_s,problem"

    public static func eventsCSV(_ reports: [EventReport]) -> String {
        var out = eventColumns + "\n"
        for r in reports {
            let fields: [String] = [
                f(r.time), r.action, r.node, f(r.detectSeconds), f(r.recoverSeconds), String(r.errors),
                f(r.p99Before), f(r.p99After), f(r.p999Before), f(r.p999After), f(r.throughputBefore), f(r.throughputAfter),
                i(r.keysMoved), i(r.bytesMoved), i(r.copiesBefore), i(r.idealKeysMoved), f(r.movedFraction, 4), f(r.idealFraction, 4),
                f(r.balancedSeconds), csvText(r.problem),
            ]
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }

    public static let clusterColumns = "time_s,node,reachable,ring_members,rebalancing,keys,rebalance_keys_received,"
        + "rebalance_bytes_received,rebalance_keys_sent,rebalance_bytes_sent,client_requests,peer_messages_in,"
        + "client_requests_per_s,peer_messages_in_per_s,down_seen_by"

    /// One row per node per sample; rates are from the node's previous sample.
    public static func clusterCSV(_ samples: [ClusterSample]) -> String {
        var out = clusterColumns + "\n"
        var previous: [String: (Double, NodeSample)] = [:]
        for s in samples {
            for n in s.nodes {
                var clientRate = "", peerRate = ""
                if n.reachable, let (t, p) = previous[n.node], p.reachable, s.time > t {
                    clientRate = f(Double(max(0, n.clientRequests - p.clientRequests)) / (s.time - t))
                    peerRate = f(Double(max(0, n.peerMessagesIn - p.peerMessagesIn)) / (s.time - t))
                }
                let downBy = s.nodes.filter { $0.reachable && $0.view[n.node] == "down" }.count
                out += [f(s.time), n.node, n.reachable ? "1" : "0", String(n.ringMembers), n.rebalancing ? "1" : "0",
                        String(n.keys), String(n.rebalanceKeysReceived), String(n.rebalanceBytesReceived),
                        String(n.rebalanceKeysSent), String(n.rebalanceBytesSent), String(n.clientRequests),
                        String(n.peerMessagesIn), clientRate, peerRate, String(downBy)].joined(separator: ",") + "\n"
                if n.reachable { previous[n.node] = (s.time, n) }
            }
        }
        return out
    }

    /// Per node, its share of the requests the cluster handled (client requests coordinated plus peer
    /// messages taken in) over the whole run, and the max/mean ratio: 1.0 is perfectly even, a hot
    /// ("celebrity") node shows as a ratio well above 1.
    public static func nodeShares(_ samples: [ClusterSample]) -> (shares: [(String, Double)], maxOverMean: Double) {
        guard let first = samples.first, let last = samples.last else { return ([], 0) }
        var handled: [(String, Int)] = []
        for n in last.nodes where n.reachable {
            let start = first.nodes.first { $0.node == n.node && $0.reachable }
            let work = (n.clientRequests + n.peerMessagesIn) - ((start?.clientRequests ?? 0) + (start?.peerMessagesIn ?? 0))
            handled.append((n.node, max(0, work)))
        }
        let total = handled.reduce(0) { $0 + $1.1 }
        guard total > 0, !handled.isEmpty else { return ([], 0) }
        let shares = handled.map { ($0.0, Double($0.1) / Double(total)) }
        let mean = 1.0 / Double(handled.count)
        return (shares, (shares.map(\.1).max() ?? 0) / mean)
    }

    /// A fixed-width table of the events for the terminal.
    public static func table(_ reports: [EventReport]) -> String {
        let widths = [8, 12, 5, 9, 10, 7, 11, 11, 8, 8, 11]
        func row(_ cells: [String]) -> String {
            zip(cells, widths).map { cell, w in cell.count >= w ? cell + " " : cell + String(repeating: " ", count: w - cell.count) }
                .joined().trimmingCharacters(in: .whitespaces) + "\n"
        }
        var out = row(["time_s", "event", "node", "detect_s", "recover_s", "errors", "p99_before", "p99_after", "moved", "ideal",
                       "balanced_s"])
        for r in reports {
            let moved = r.movedFraction.map { f($0 * 100, 1) + "%" } ?? "-"
            let ideal = r.idealFraction.map { f($0 * 100, 1) + "%" } ?? "-"
            out += row([f(r.time, 1), r.action, r.node, f(r.detectSeconds, 2, none: r.action == "hot-key" || r.action == "rate" ? "-" : "never"), f(r.recoverSeconds, 1, none: "-"),
                        String(r.errors), us(r.p99Before), us(r.p99After), moved, ideal, f(r.balancedSeconds, 1, none: "-")])
            if !r.problem.isEmpty { out += "         problem: \(r.problem)\n" }
        }
        return out
    }

    static func us(_ v: Double?) -> String {
        guard let v else { return "-" }
        return v >= 10_000 ? f(v / 1000, 1) + "ms" : f(v, 0) + "us"
    }

    static func f(_ v: Double?, _ digits: Int = 3, none: String = "") -> String {
        guard let v, v.isFinite else { return none }
        return String(format: "%.\(digits)f", v)
    }

    static func i(_ v: Int?) -> String { v.map(String.init) ?? "" }

    static func csvText(_ s: String) -> String {
        s.isEmpty ? "" : "\"" + s.replacingOccurrences(of: "\"", with: "'") + "\""
    }

    /// `scenario.json`: the scenario, its events' reports and the node shares.
    public static func json(scenario: Scenario, reports: [EventReport], samples: [ClusterSample], notes: [String],
                            writesCheck: [String: Int] = [:]) -> String {
        func num(_ v: Double?) -> Any { v.map { $0.isFinite ? $0 : 0 } ?? NSNull() }
        func int(_ v: Int?) -> Any { v ?? NSNull() }
        let events: [[String: Any]] = reports.map { r in
            ["time_s": r.time, "action": r.action, "node": r.node, "problem": r.problem, "detect_s": num(r.detectSeconds),
             "recover_s": num(r.recoverSeconds), "errors": r.errors, "p99_before_us": num(r.p99Before), "p99_after_us": num(r.p99After),
             "p999_before_us": num(r.p999Before), "p999_after_us": num(r.p999After), "ops_before": r.throughputBefore,
             "ops_after": r.throughputAfter, "keys_moved": int(r.keysMoved), "bytes_moved": int(r.bytesMoved),
             "copies_before": int(r.copiesBefore), "ideal_keys_moved": int(r.idealKeysMoved), "moved_fraction": num(r.movedFraction),
             "ideal_fraction": num(r.idealFraction), "balanced_s": num(r.balancedSeconds)]
        }
        let (shares, ratio) = nodeShares(samples)
        let object: [String: Any] = [
            "scenario": scenario.name, "description": scenario.description, "nodes": scenario.cluster.nodes,
            "n": scenario.cluster.n, "r": scenario.cluster.r, "w": scenario.cluster.w, "events": events,
            "node_shares": Dictionary(uniqueKeysWithValues: shares.map { ($0.0, $0.1) }), "node_max_over_mean": ratio,
            "notes": notes, "writes_check": writesCheck,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
