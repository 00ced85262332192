import ArgumentParser

/// `kvbench run`: issues the workload's operation mix (YCSB run phase).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the workload's operation mix (YCSB run phase).")

    @OptionGroup var options: WorkloadOptions

    func run() throws { try options.execute(phase: .run) }
}
