import ArgumentParser
import KVLoad

/// `kvbench merge`: combines runs from several client machines into one report.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the --out directories of runs taken on several machines (histograms merge losslessly)."
    )

    @Argument(help: "Run directories written with --out.")
    var directories: [String]

    @Option(name: .long, help: "Directory for the merged report (default: print the summary only).")
    var out: String?

    func run() throws {
        let result = try RunMerger.merge(directories: directories)
        print(Reports.ycsbText(result), terminator: "")
        if let out { try Reports.write(result, to: out) }
    }
}
