import ArgumentParser

/// `kvbench`: YCSB-compatible load generation and reports for key-value stores.
@main
struct KVBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvbench",
        abstract: "A YCSB-compatible load generator that measures latency honestly.",
        subcommands: [LoadCommand.self, RunCommand.self, MergeCommand.self]
    )
}
