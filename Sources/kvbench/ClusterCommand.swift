import ArgumentParser
import Foundation
import KVClusterControl
import KVScenario

/// `kvbench cluster start|status|event|stop`: the local kvnode cluster a scenario uses, by hand.
/// Its state lives in `--dir` (`cluster.json`), so separate commands find the same processes.
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Start, inspect, disturb and stop a local kvnode cluster (what --scenario does automatically).",
        subcommands: [Start.self, Status.self, Event.self, Stop.self]
    )

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start kvnode processes on this machine and wait until they form a cluster.")

        @Option(help: "Directory for the nodes' data, logs and cluster.json.") var dir: String
        @Option(help: "Members to start.") var nodes = 3
        @Option(help: "Replicas per key (N).") var n = 3
        @Option(help: "Read quorum (R).") var r = 2
        @Option(help: "Write quorum (W).") var w = 2
        @Option(help: "Address to listen on.") var host = "127.0.0.1"
        @Option(help: "First client port (peer ports are 10000 above); 0 picks free ports.") var basePort = 0
        @Option(help: "kvnode executable (default: the one next to kvbench).") var kvnode: String?
        @Argument(parsing: .postTerminator, help: "Extra kvnode flags after --, e.g. -- --fsync always") var extra: [String] = []

        func run() throws {
            if FileManager.default.fileExists(atPath: dir + "/cluster.json"), let old = try? LocalCluster(existing: dir),
               old.nodes.contains(where: { old.isOurs($0.pid) }) {
                throw ValidationError("a cluster is already running from \(dir); `kvbench cluster stop --dir \(dir)` first")
            }
            let spec = ClusterSpec(nodes: nodes, host: host, basePort: basePort, n: n, r: r, w: w, args: extra)
            let scenario = try Scenario(name: "manual", cluster: spec, events: [])  // validates the numbers
            let cluster = try LocalCluster(kvnode: kvnode ?? siblingKVNode(), directory: dir, spec: scenario.cluster)
            do {
                try cluster.start()
            } catch {
                cluster.stopAll()
                throw error
            }
            print("started \(nodes) nodes: \(cluster.liveAddresses.joined(separator: ","))")
            print("drive it with: kvbench run kvnode --hosts \(cluster.liveAddresses[0]) -P workloads/workloada")
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each node's process state and what it reports (INFO cluster).")

        @Option(help: "The cluster's directory.") var dir: String

        func run() throws {
            let cluster = try LocalCluster(existing: dir)
            print("node  address            pid      process  cluster  up  ring  keys      rebalancing")
            for node in cluster.nodes {
                let address = cluster.address(of: node.id) ?? "?"
                let alive = cluster.isOurs(node.pid)
                var fields = ["-", "-", "-", "-", "-"]
                if alive, let info = try? cluster.info(node.id) {
                    fields = [info["cluster_state"] ?? "?", info["cluster_members_up"] ?? "?", info["cluster_ring_members"] ?? "?",
                              String(LocalCluster.keyCount(info["db0"])),
                              info["cluster_rebalancing"] == "1" ? "yes" : "no"]
                }
                let process = alive ? node.state : (node.state == "left" || node.state == "removed" ? node.state : "exited")
                print([pad(node.id, 6), pad(address, 19), pad(String(node.pid), 9), pad(process, 9), pad(fields[0], 9),
                       pad(fields[1], 4), pad(fields[2], 6), pad(fields[3], 10), fields[4]].joined())
            }
        }
    }

    struct Event: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Do one scenario event now: add-node, kill, pause, resume, restart, leave or remove-node.")

        @Option(help: "The cluster's directory.") var dir: String
        @Argument(help: "The action.") var action: String
        @Argument(help: "The node it acts on (all but add-node).") var node: String?

        func run() throws {
            guard let kind = ScenarioAction(rawValue: action), kind != .hotKey, kind != .rate else {
                throw ValidationError("unknown action \(action); use add-node, kill, pause, resume, restart, leave or remove-node")
            }
            let cluster = try LocalCluster(existing: dir)
            let id = try cluster.perform(ScenarioEvent(at: 0, action: kind, node: node))
            print("\(action) \(id ?? "")")
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop every node (SIGTERM, then SIGKILL after 10 s).")

        @Option(help: "The cluster's directory.") var dir: String
        @Flag(help: "Also delete the nodes' data directories (logs and cluster.json stay).") var removeData = false

        func run() throws {
            let cluster = try LocalCluster(existing: dir)
            cluster.stopAll()
            if removeData { for node in cluster.nodes { try? FileManager.default.removeItem(atPath: dir + "/" + node.id) } }
            print("stopped \(cluster.nodes.count) nodes")
        }
    }
}

func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }

/// The kvnode executable next to this kvbench (both are products of the same package).
func siblingKVNode() -> String {
    let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("kvnode").path
}
