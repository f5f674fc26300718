// The cold-start baseline: a bare node:http server (run by plain node, Node 24 strips the types).
import { createServer } from 'node:http';

const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `LISTENING http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}\n`,
  );
});
