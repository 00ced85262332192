import ArgumentParser

/// `kvbench load`: inserts the workload's records (YCSB's load phase).
struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Insert the workload's records (YCSB load phase).")

    @OptionGroup var options: WorkloadOptions

    func run() throws { try options.execute(phase: .load) }
}
