import ArgumentParser

/// `kvbench`: the load generator and lab for key-value stores.
@main
struct KVBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvbench",
        abstract: "Benchmark and load-generation toolkit for key-value stores.",
        subcommands: [RingCommand.self, SimulateCommand.self]
    )
}
