/* global process */
// Preloaded (node --require) into the CLI by the streaming test: prints the process's peak memory as it exits.
process.on('exit', () => {
  process.stderr.write(`peak-rss-kib ${process.resourceUsage().maxRSS}\n`);
});
