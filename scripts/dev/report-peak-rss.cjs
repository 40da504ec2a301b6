// Preloaded by the benchmark (`node -r`): prints the process's peak resident memory when it exits.
process.on("exit", () => {
  process.stderr.write(`\nBENCH_PEAK_RSS_KIB=${process.resourceUsage().maxRSS}\n`);
});
