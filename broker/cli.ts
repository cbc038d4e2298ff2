process.stdout.write('usage: isaac-broker <init|start|status> (not built yet: see issue 3)\n');
