import ArgumentParser

/// `kvbench`: YCSB-compatible load generation, honest latency reports, the partitioning lab and the
/// cluster simulator for key-value stores.
@main
struct KVBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvbench",
        abstract: "Benchmark and load-generation toolkit for key-value stores.",
        subcommands: [LoadCommand.self, RunCommand.self, MergeCommand.self, CompareCommand.self, RingCommand.self, SimulateCommand.self,
                      SimulateMembershipCommand.self, ClusterCommand.self, ChaosCommand.self]
    )
}
