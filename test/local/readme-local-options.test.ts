import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_PORTS, LocalService, PORT_VARIABLES, SERVICE_NAMES } from '../../local/local-options';

const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
const services = Object.keys(PORT_VARIABLES) as LocalService[];

describe('the README names every local service and the variable that moves it', () => {
  test.each(services)('%s: its port variable', (service) => {
    expect(readme).toContain(`\`${PORT_VARIABLES[service]}\``);
  });

  test.each(services)('%s: a row of the table of services, at its default port', (service) => {
    const row = readme.split('\n').find((line) => line.startsWith(`| ${SERVICE_NAMES[service]} `));
    expect(row).toContain(`http://127.0.0.1:${DEFAULT_PORTS[service]}`);
  });
});
