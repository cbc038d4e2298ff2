process.stdout.write('usage: isaac-node <init|join|start|status> (not built yet: see issue 4)\n');
