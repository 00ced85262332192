import Foundation

/// Packet-level faults between nodes that listen on addresses of their own (127.0.0.2-6 in the run's
/// private network namespace): iptables rules on INPUT by source and destination, so the client traffic
/// of the run (from 127.0.0.1) is never dropped. Every rule goes away with `heal()`, and all of them with
/// the namespace.
public struct NetworkFaults: Sendable {
    public let hosts: [String]

    public init(hosts: [String]) { self.hosts = hosts }

    /// Drops every packet between nodes of different groups, both ways.
    public func cut(_ groups: [[Int]]) throws {
        for (i, a) in groups.enumerated() {
            for (j, b) in groups.enumerated() where i != j {
                try drop(from: a, to: b)
            }
        }
    }

    /// Drops packets from `senders` to `receivers` only.
    public func drop(from senders: [Int], to receivers: [Int], probability: Double? = nil) throws {
        for x in senders {
            for y in receivers where x != y {
                var rule = ["iptables", "-w", "-A", "INPUT", "-s", hosts[x], "-d", hosts[y]]
                if let probability {
                    rule += ["-m", "statistic", "--mode", "random", "--probability", String(probability)]
                }
                try Shell.run(rule + ["-j", "DROP"])
            }
        }
    }

    /// Drops `probability` of the packets between every pair of nodes, at random.
    public func loss(probability: Double) throws {
        let all = Array(hosts.indices)
        try drop(from: all, to: all, probability: probability)
    }

    /// Removes every rule.
    public func heal() throws {
        try Shell.run(["iptables", "-w", "-F", "INPUT"])
    }
}

/// Runs a system command and waits; a non-zero exit is an error quoting the command and its output.
public enum Shell {
    public static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ChaosError("`\(arguments.joined(separator: " "))` exited with \(process.terminationStatus): "
                             + String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// Whether `name` is an executable on PATH.
    public static func has(_ name: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
    }
}

/// A chaos run could not be set up or carried on: the text says what and where to look.
public struct ChaosError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
