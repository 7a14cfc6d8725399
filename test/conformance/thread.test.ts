import { threadScheduler } from 'rxjs-parallel';
import { conformance } from './suite.js';

conformance('thread', () => threadScheduler({ workers: 2 }));
