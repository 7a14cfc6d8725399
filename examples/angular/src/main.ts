import { bootstrapApplication } from '@angular/platform-browser';
import { appConfig } from './app/app.config';
import { ScoresComponent } from './app/scores.component';

bootstrapApplication(ScoresComponent, appConfig).catch((error) => console.error(error));
